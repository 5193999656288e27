"""Pulumi components that turn an account's plan into resources."""
