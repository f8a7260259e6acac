// The query page's editor: YASGUI (vendored, static/vendor/yasgui/) set up for this endpoint
// only, with our prefixes, classes and properties for completion and the competency questions
// as examples. Without this script (or without YASGUI) the plain form works on its own.
(function () {
  "use strict";
  var configElement = document.getElementById("query-config");
  var mount = document.getElementById("yasgui");
  if (!configElement || !mount || typeof window.Yasgui !== "function") { return; }
  var config = JSON.parse(configElement.textContent);
  var Yasgui = window.Yasgui;
  var Yasqe = Yasgui.Yasqe;
  var endpoint = new URL(config.endpoint, window.location.href).href;

  // Completion from our own lists, never from prefix.cc or LOV (another host).
  var prefixes = Object.keys(config.prefixes).sort().map(function (p) {
    return p + ": <" + config.prefixes[p] + ">";
  });
  Yasqe.Autocompleters.prefixes.get = prefixes;
  Yasqe.Autocompleters.prefixes.persistenceId = null;
  Yasqe.forkAutocompleter("class", {
    name: "mmkg-classes", get: config.classes, bulk: true, persistenceId: null,
  }, false);
  Yasqe.forkAutocompleter("property", {
    name: "mmkg-properties", get: config.properties, bulk: true, persistenceId: null,
  }, false);

  mount.hidden = false;
  document.getElementById("editor-keys").hidden = false;
  document.documentElement.classList.add("js");
  var yasgui = new Yasgui(mount, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: false,
    populateFromUrl: false,
    persistenceId: null,
    autofocus: false,
    endpointCatalogueOptions: {
      getData: function () { return [{ endpoint: endpoint }]; },
      keys: [],
      renderItem: function (data, source) { source.textContent = data.value.endpoint; },
    },
    yasqe: {
      value: config.query,
      persistenceId: null,
      autocompleters: ["variables", "prefixes", "mmkg-classes", "mmkg-properties"],
      createShareableLink: null,
      editorHeight: "22rem",
    },
    yasr: {
      prefixes: config.prefixes,
      persistenceId: null,
      defaultPlugin: "table",
      getDownloadFileName: function () { return "mmkg-results"; },
    },
  });
  var tab = yasgui.getTab();
  var yasqe = tab.getYasqe();
  ["class", "property"].forEach(function (name) {  // the LOV look-ups (another host)
    if (yasqe.autocompleters[name]) { yasqe.disableCompleter(name); }
  });
  // The editor's text area, for screen readers.
  var input = yasqe.getInputField();
  if (input) { input.setAttribute("aria-label", "SPARQL query"); }

  // Picking an example puts it in the editor (no reload: the choice stays selected).
  var select = document.getElementById("example");
  var description = document.getElementById("example-description");
  var load = document.getElementById("load-example");
  if (load) { load.hidden = true; }
  if (select) {
    select.addEventListener("change", function () {
      var chosen = config.examples.filter(function (e) { return e.name === select.value; })[0];
      if (!chosen) { return; }
      yasqe.setValue(chosen.query);
      if (description) { description.textContent = chosen.description; }
    });
  }

  // YASR names its table download after the tab; ours are mmkg-results.csv (every tab).
  function nameDownloads(someTab) {
    var yasr = someTab && someTab.getYasr && someTab.getYasr();
    if (yasr) { yasr.config.getDownloadFileName = function () { return "mmkg-results"; }; }
  }
  nameDownloads(tab);
  yasgui.on("query", function (_yasgui, queried) { nameDownloads(queried); });
  yasgui.on("tabSelect", function (_yasgui, id) {
    window.setTimeout(function () { nameDownloads(yasgui.getTab(id)); }, 0);
  });

  // The whole result in each format, as a file the endpoint names (download=1): the query
  // goes by POST, so its length does not matter.
  var downloads = document.createElement("form");
  downloads.method = "post";
  downloads.action = config.endpoint;
  downloads.className = "downloads";
  downloads.id = "editor-downloads";
  downloads.appendChild(document.createTextNode("Download the whole result: "));
  [["query", ""], ["download", "1"]].forEach(function (pair) {
    var field = document.createElement("input");
    field.type = "hidden";
    field.name = pair[0];
    field.value = pair[1];
    downloads.appendChild(field);
  });
  config.downloads.forEach(function (choice) {
    var button = document.createElement("button");
    button.type = "submit";
    button.name = "format";
    button.value = choice[0];
    button.textContent = choice[1];
    downloads.appendChild(button);
    downloads.appendChild(document.createTextNode(" "));
  });
  downloads.addEventListener("submit", function () {
    downloads.elements.query.value = yasgui.getTab().getYasqe().getValue();
  });
  mount.parentNode.insertBefore(downloads, mount.nextSibling);

  // Our identifiers link to this host's pages, not to the canonical base (which may be
  // another host): rewritten as a result link is followed.
  mount.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.iri") : null;
    if (!link) { return; }
    var href = link.getAttribute("href") || "";
    if (href.indexOf(config.base) === 0) {
      link.setAttribute("href", config.root + "/" + href.slice(config.base.length));
    }
  }, true);

  // A result cut at the endpoint's row limit says so (the endpoint's header).
  var notice = document.createElement("p");
  notice.className = "truncated";
  notice.id = "editor-truncated";
  notice.hidden = true;
  notice.textContent = "The result was cut at this endpoint's limit of " + config.maxResults +
    " rows. Add a LIMIT/OFFSET or narrow the query.";
  mount.parentNode.insertBefore(notice, mount.nextSibling);
  yasqe.on("queryResponse", function (_yasqe, response) {
    var headers = response && response.headers;
    notice.hidden = !(headers && headers.get && headers.get("MMKG-Results-Truncated") === "true");
  });
})();
