"""Campaign mail: turns a campaign into print-ready letters, a recipient list and a ZIP."""

__version__ = "0.1.0"
