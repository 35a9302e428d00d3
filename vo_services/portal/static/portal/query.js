/* The ADQL page: an example goes into the box in one click; Ctrl+Enter runs the query; after an
   error, the cursor waits at the line and column the message names. The page works without it. */
(function () {
  "use strict";
  var box = document.getElementById("query-box");
  if (!box) { return; }
  var form = document.getElementById("query-form");

  document.querySelectorAll("a.example[data-query]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      box.value = link.getAttribute("data-query");
      box.removeAttribute("aria-invalid");
      box.focus();
      box.setSelectionRange(0, 0);
      box.scrollIntoView({block: "nearest"});
    });
  });

  box.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.querySelector('button[value="run"]').click();
    }
  });

  var line = parseInt(box.getAttribute("data-error-line"), 10);
  var column = parseInt(box.getAttribute("data-error-column"), 10);
  if (line > 0 && column > 0) {
    var lines = box.value.split("\n");
    var offset = 0;
    for (var i = 0; i < line - 1 && i < lines.length; i++) { offset += lines[i].length + 1; }
    offset = Math.min(offset + column - 1, box.value.length);
    box.focus();
    box.setSelectionRange(offset, offset);
  }
})();
