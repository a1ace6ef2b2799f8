/* The visit form: pick an enterprise from the search results, show the need's fields only
   when there is a need. Works without it: the need's fields are then always shown. */
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) return;
  var uscc = form.elements.enterprise;
  var query = form.elements.enterprise_q;
  var results = document.getElementById("enterprise-results");
  var need = document.getElementById("need-section");

  function changed() { form.dispatchEvent(new Event("input", { bubbles: true })); }

  if (results) {
    results.addEventListener("click", function (event) {
      var pick = event.target.closest(".enterprise-pick");
      if (!pick) return;
      uscc.value = pick.dataset.uscc;
      query.value = pick.dataset.label;
      results.innerHTML = "";
      changed();
    });
    // Typing again means another enterprise: the chosen one no longer holds.
    query.addEventListener("input", function (event) { if (event.isTrusted) uscc.value = ""; });
  }

  function showNeed() {
    var yes = form.querySelector("input[name=has_need][value=true]");
    if (need && yes) need.hidden = !yes.checked;
  }
  form.addEventListener("change", showNeed);
  form.addEventListener("draft:restored", showNeed);
  showNeed();
})();
