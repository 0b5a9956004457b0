"""Assembles the schema and its protections (limits and error masking)."""

from __future__ import annotations

from graphql import ASTValidationRule, GraphQLError
from strawberry import Schema
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.types import ExecutionContext
from strawberry.utils.logging import StrawberryLogger

from graphql_api.errors import MASKED_MESSAGE, should_mask
from graphql_api.query import Query
from graphql_api.settings import Settings


class GoldSchema(Schema):
    """Logs only unexpected errors: client mistakes are answered, not logged as failures."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if should_mask(error):
                StrawberryLogger.error(error, execution_context)


def build_schema(settings: Settings | None = None) -> Schema:
    """The schema with its limits (what ``QueryDepthLimiter`` and ``MaxAliasesLimiter`` do).

    The two rules are built once: extensions are created per request, and rule classes
    created per request would defeat ``ValidationCache``, whose key includes the rules.
    """
    limits = settings or Settings.from_env()
    rules: list[type[ASTValidationRule]] = [
        max_depth_rule(limits.max_depth, None, None),
        max_aliases_rule(limits.max_aliases),
    ]
    return GoldSchema(
        query=Query,
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
            lambda: ParserCache(maxsize=256),
            lambda: AddValidationRules(rules),
            lambda: ValidationCache(maxsize=256),
            lambda: MaskErrors(should_mask_error=should_mask, error_message=MASKED_MESSAGE),
        ],
    )


schema = build_schema()
