"""The knowledge graph itself: the shipped files, loading, the backends that answer queries
(embedded Oxigraph or a remote endpoint), SHACL validation and the competency questions.
No Flask here."""
