"""GraphQL API over the gold marts in MongoDB (Strawberry on Starlette, served by uvicorn).

Run it with ``medallion-api`` or ``python -m graphql_api``; settings come from the
environment (see :mod:`graphql_api.settings`).
"""
