"""``mongo_auth.redact``: the one redactor of MongoDB passwords, for the datasets and the API."""

from __future__ import annotations

from medallion_kedro.mongo_auth import redact


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
