"""``mongo_auth``: the one redactor of MongoDB credentials, for the datasets, the run records,
lineage and the API."""

from __future__ import annotations

from urllib.parse import quote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from medallion_kedro.mongo_auth import hosts, redact, without_credentials


def test_the_password_of_every_uri_in_a_message_is_replaced() -> None:
    text = (
        "could not reach mongodb://admin:s3cr3t@db:27017/?authSource=admin, "
        "nor mongodb+srv://reader:0ther-Secret@cluster.example.net/medallion"
    )
    assert redact(text) == (
        "could not reach mongodb://admin:****@db:27017/?authSource=admin, "
        "nor mongodb+srv://reader:****@cluster.example.net/medallion"
    )


def test_uris_without_a_password_are_left_as_they_are() -> None:
    for text in ("mongodb://db:27017/medallion", "mongodb://x509user@db/?authMechanism=X"):
        assert redact(text) == text


# Passwords as people type them into MONGO_URI, escaped or not: any printable character
# but whitespace, and always one of the characters that end a naive match (/ @ : %).
_PASSWORDS = st.tuples(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=12),
    st.sampled_from("/@:%"),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=12),
).map("".join)
_USERS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
_TAILS = st.sampled_from(["", "/", "/medallion", "/?authSource=admin", "/medallion?tls=false"])


@settings(max_examples=300, deadline=None)
@given(user=_USERS, password=_PASSWORDS, tail=_TAILS, escaped=st.booleans())
def test_no_password_survives_whatever_characters_it_holds(
    user: str, password: str, tail: str, escaped: bool
) -> None:
    secret = quote_plus(password) if escaped else password
    uri = f"mongodb://{user}:{secret}@db.example:27017{tail}"
    assert redact(f"cannot reach {uri} now") == (
        f"cannot reach mongodb://{user}:****@db.example:27017{tail} now"
    )
    assert hosts(uri) == "db.example:27017"
    assert without_credentials(uri) == "mongodb://db.example:27017"


def test_hosts_are_read_by_the_driver_parser() -> None:
    uri = "mongodb://u:p%2Fw@h1:1,h2/db?replicaSet=rs"
    assert without_credentials(uri) == "mongodb://h1:1,h2:27017"
    assert without_credentials("mongodb+srv://u:p/w@cluster.example.net/db") == (
        "mongodb+srv://cluster.example.net"
    )
