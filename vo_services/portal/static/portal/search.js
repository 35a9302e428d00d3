/* The search page's and the bundle page's few enhancements; every page works without them.
   - target names suggested as one types (a <datalist> fed by /search/targets?q=);
   - a FITS header in a <dialog> instead of a new page;
   - "select this page" for the result rows;
   - a bundle's progress polled from /datalink/bundles/<id> (without JS the page refreshes itself). */
(function () {
  "use strict";

  function suggestNames() {
    var script = document.querySelector("script[data-targets]");
    var input = document.getElementById("f-target");
    var list = document.getElementById("target-names");
    if (!script || !input || !list) return;
    var url = script.getAttribute("data-targets");
    var timer = null, asked = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q.length < 2 || q === asked) return;
        asked = q;
        fetch(url + "?q=" + encodeURIComponent(q), {credentials: "same-origin"})
          .then(function (r) { return r.ok ? r.json() : {names: []}; })
          .then(function (data) {
            list.replaceChildren.apply(list, data.names.map(function (name) {
              var option = document.createElement("option");
              option.value = name;
              return option;
            }));
          })
          .catch(function () {});
      }, 150);
    });
  }

  function headerDialog() {
    var dialog = document.getElementById("header-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return;
    var text = document.getElementById("header-text");
    var title = document.getElementById("header-dialog-title");
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("a.header-link");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      title.textContent = "FITS header of " + link.getAttribute("data-obs");
      text.textContent = "Loading…";
      dialog.showModal();
      fetch(link.href, {credentials: "same-origin"})
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (body) { text.textContent = body; })
        .catch(function () { text.textContent = "The header could not be read."; });
    });
  }

  function selectPage() {
    var box = document.getElementById("select-page");
    var form = document.getElementById("results");
    if (!box || !form) return;
    box.closest("label").hidden = false;
    box.addEventListener("change", function () {
      form.querySelectorAll("input[name=id]").forEach(function (c) { c.checked = box.checked; });
    });
  }

  function bundleProgress() {
    var panel = document.getElementById("bundle");
    if (!panel || panel.getAttribute("data-done") === "1") return;
    var url = panel.getAttribute("data-status");
    var bar = document.getElementById("bundle-progress");
    var phase = document.getElementById("bundle-phase");
    function poll() {
      fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (s.bytes && s.bytes.total) bar.value = Math.floor(100 * s.bytes.done / s.bytes.total);
          if (["COMPLETED", "ERROR", "ABORTED", "ARCHIVED"].indexOf(s.phase) >= 0) {
            window.location.reload();  // the server writes the finished page, with its link
            return;
          }
          phase.textContent = "Preparing " + s.files.total + " files: " + s.files.done + " done…";
          setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    poll();
  }

  suggestNames();
  headerDialog();
  selectPage();
  bundleProgress();
})();
