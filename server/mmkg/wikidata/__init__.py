"""Links with Wikidata: identifier patterns, QID resolution, reconciliation and exports."""
