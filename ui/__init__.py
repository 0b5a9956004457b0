"""Gradio app over the gold tables: from the lake (Kedro catalog) or the GraphQL API."""
