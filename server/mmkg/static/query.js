// Enhancements for the SPARQL query page; the page works as plain forms without this script.
(function () {
  "use strict";
  var select = document.getElementById("example");
  var textarea = document.getElementById("query");
  var loadButton = document.getElementById("load-example");
  if (select && textarea) {
    // Picking an example fills the editor at once instead of reloading the page.
    if (loadButton) { loadButton.hidden = true; }
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      textarea.value = option.getAttribute("data-query") || "";
      var description = document.getElementById("example-description");
      if (description) { description.textContent = option.getAttribute("data-description") || ""; }
      textarea.focus();
    });
  }
  if (textarea) {
    // Ctrl+Enter (or Cmd+Enter) runs the query.
    textarea.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        document.getElementById("query-form").submit();
      }
    });
  }
})();
