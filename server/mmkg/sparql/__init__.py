"""The SPARQL 1.1 endpoint: errors, the safety guard, result writers, the worker pool, the
service description and the /sparql views."""
