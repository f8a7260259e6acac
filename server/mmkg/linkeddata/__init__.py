"""Linked data for people and machines: the documents served for each URI, the JSON-LD context,
their caches, the HTML pages (timeline, ontology documentation) and the views."""
