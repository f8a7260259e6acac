"""mmkg: the OSCE Moscow Mechanism knowledge graph and its linked-data server."""

__version__ = "0.1.0"
