/* Tonight: ask the server every few seconds whether the night's list changed, and put the new
   rows in place without reloading the page (the page reloads itself every 30 s without JS). */
(function () {
  "use strict";
  var table = document.getElementById("tonight-frames");
  if (!table) { return; }
  var body = table.tBodies[0];
  var status = document.getElementById("tonight-status");
  var seconds = parseInt(table.getAttribute("data-seconds"), 10) || 5;

  function poll() {
    var url = table.getAttribute("data-poll") + "?since=" + encodeURIComponent(table.getAttribute("data-version"));
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); throw new Error("logged out"); }
        return response.json();
      })
      .then(function (answer) {
        if (answer.changed) {
          body.innerHTML = answer.rows;
          table.setAttribute("data-version", answer.version);
          if (answer.night !== document.getElementById("night").textContent) {
            document.getElementById("night").textContent = answer.night;
          }
          status.textContent = answer.count + " frame" + (answer.count === 1 ? "" : "s") +
            " tonight; updated " + new Date().toLocaleTimeString() + ".";
        }
      })
      .catch(function () { /* the next poll tries again */ })
      .finally(function () { window.setTimeout(poll, seconds * 1000); });
  }
  window.setTimeout(poll, seconds * 1000);
})();
