"""getsales-async: the async-first Python SDK for the GetSales API."""

__version__ = "0.1.0"

__all__ = ["__version__"]
