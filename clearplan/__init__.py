"""Clearplan: treatment coordination for dental and orthodontic practices."""

__version__ = "0.1.0"
