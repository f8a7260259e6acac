// Every page: a reference number opens the (folded) list of sources before jumping to it.
(function () {
  "use strict";
  function openTarget() {
    var target = window.location.hash && document.getElementById(window.location.hash.slice(1));
    var folded = target && target.closest ? target.closest("details") : null;
    if (folded && !folded.open) {
      folded.open = true;
      target.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
})();
