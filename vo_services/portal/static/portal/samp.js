/* A minimal SAMP Web Profile client (SAMP 1.3 §5): no library, no CDN.
 *
 * Any element with data-samp-table="<VOTable URL>" or data-samp-image="<FITS URL>" becomes a
 * "Send to ..." button. On a click the page registers with the hub on the user's own machine
 * (XML-RPC over HTTP POST to http://localhost:21012/, the port SAMP 1.3 §5.2 fixes) once per page,
 * sends table.load.votable or image.load.fits to every subscribed client, and unregisters when
 * the page goes away.
 *
 * The hub fetches the URL itself, without the browser's cookies. For a logged-in user (the page
 * then names the signing end point in <meta name="lick-preauth">), each click first asks the
 * archive for a pre-authorised copy of the URL (POST /auth/preauth, with the CSRF token): it opens
 * that one resource as that user for a few minutes, so the user's own proprietary data reach
 * TOPCAT/Aladin. Anonymous pages send the plain public URL (docs/portal.md, docs/auth.md).
 */
(function () {
  "use strict";
  var HUB = "http://localhost:21012/";

  function esc(s) { return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }

  // XML-RPC values (SAMP 1.3 §3.3: strings, lists and maps only).
  function encode(v) {
    if (Array.isArray(v)) return "<value><array><data>" + v.map(encode).join("") + "</data></array></value>";
    if (v !== null && typeof v === "object") {
      return "<value><struct>" + Object.keys(v).map(function (k) {
        return "<member><name>" + esc(k) + "</name>" + encode(v[k]) + "</member>";
      }).join("") + "</struct></value>";
    }
    return "<value><string>" + esc(v) + "</string></value>";
  }

  function decode(node) {
    var el = node.firstElementChild;
    if (!el) return node.textContent;  // <value>text</value> is a string
    if (el.tagName === "struct") {
      var out = {};
      Array.prototype.forEach.call(el.children, function (m) {
        out[m.getElementsByTagName("name")[0].textContent] = decode(m.getElementsByTagName("value")[0]);
      });
      return out;
    }
    if (el.tagName === "array") {
      var data = el.getElementsByTagName("data")[0];
      return Array.prototype.filter.call(data.children, function (c) { return c.tagName === "value"; }).map(decode);
    }
    return el.textContent;
  }

  function call(method, params) {
    var body = '<?xml version="1.0"?><methodCall><methodName>samp.webhub.' + method +
      "</methodName><params>" + params.map(function (p) { return "<param>" + encode(p) + "</param>"; }).join("") +
      "</params></methodCall>";
    return fetch(HUB, { method: "POST", headers: { "Content-Type": "text/xml" }, body: body })
      .then(function (r) { if (!r.ok) throw new Error("hub answered " + r.status); return r.text(); })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/xml");
        var fault = doc.getElementsByTagName("fault")[0];
        if (fault) throw new Error("hub refused: " + JSON.stringify(decode(fault.getElementsByTagName("value")[0])));
        var value = doc.querySelector("params > param > value");
        return value ? decode(value) : "";
      });
  }

  // One registration per page (one approval in the hub's dialog), dropped when the page goes:
  // the hub delivers notifyAll after it answers, from a sender that must still be registered.
  var registration = null;

  function register() {
    if (!registration) {
      registration = call("register", [{ "samp.name": "Lick Searchable Archive" }]).then(function (reg) {
        var key = reg["samp.private-key"];
        return call("declareMetadata", [key, { "samp.name": "Lick Searchable Archive",
          "samp.description.text": "Lick Observatory archive web portal" }]).then(function () { return key; });
      });
      registration.catch(function () { registration = null; });
    }
    return registration;
  }

  window.addEventListener("pagehide", function () {
    if (!registration) return;
    registration.then(function (key) {
      var body = '<?xml version="1.0"?><methodCall><methodName>samp.webhub.unregister</methodName><params><param>' +
        encode(key) + "</param></params></methodCall>";
      fetch(HUB, { method: "POST", headers: { "Content-Type": "text/xml" }, body: body, keepalive: true });
    });
    registration = null;
  });

  function meta(name) {
    var el = document.querySelector('meta[name="' + name + '"]');
    return el ? el.getAttribute("content") : null;
  }

  // The URL the hub may fetch: a logged-in user's pre-authorised copy, else the URL itself.
  function fetchable(url) {
    var signer = meta("lick-preauth");
    if (!signer) return Promise.resolve(url);
    return fetch(signer, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": meta("lick-csrf") || "" },
      body: new URLSearchParams({ url: url }).toString() })
      .then(function (r) {
        if (!r.ok) { var err = new Error("the archive gave no link (" + r.status + ")"); err.archive = true; throw err; }
        return r.json();
      })
      .then(function (made) { return made.url; });
  }

  function send(mtype, url, name) {
    return fetchable(url).then(function (sent) {
      // table-id names the table in later messages: the plain URL, never the grant (SAMP 1.3 §6.3)
      var params = { url: sent, name: name };
      if (mtype === "table.load.votable") params["table-id"] = url;
      return register().then(function (key) {
        return call("notifyAll", [key, { "samp.mtype": mtype, "samp.params": params }]);
      }).catch(function (err) { registration = null; throw err; });
    });
  }

  function say(button, text, ok) {
    var note = button.nextElementSibling;
    if (!note || !note.classList.contains("samp-status")) {
      note = document.createElement("span");
      note.className = "samp-status";
      note.setAttribute("role", "status");
      button.insertAdjacentElement("afterend", note);
    }
    note.className = "samp-status " + (ok ? "ok" : "error");
    note.textContent = " " + text;
  }

  function absolute(url) { return new URL(url, document.baseURI).href; }

  function wire(el) {
    var table = el.getAttribute("data-samp-table"), image = el.getAttribute("data-samp-image");
    var mtype = table ? "table.load.votable" : "image.load.fits";
    var url = absolute(table || image);
    if (!el.textContent.trim()) el.textContent = table ? "Send to TOPCAT/Aladin" : "Send to Aladin/ds9";
    el.hidden = false;
    el.addEventListener("click", function (event) {
      event.preventDefault();
      say(el, "sending…", true);
      send(mtype, url, el.getAttribute("data-samp-name") || document.title).then(function (recipients) {
        var n = Array.isArray(recipients) ? recipients.length : Object.keys(recipients || {}).length;
        say(el, n ? "sent to " + n + " application" + (n === 1 ? "" : "s") : "sent; no application listens for it", true);
      }, function (err) {
        say(el, err && err.archive ? "could not send: " + err.message + "; log in again, then try again"
          : "no SAMP hub found: start TOPCAT or Aladin (or accept its dialog), then try again", false);
      });
    });
  }

  function init() {
    document.querySelectorAll("[data-samp-table], [data-samp-image]").forEach(wire);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
  window.LickSamp = { send: send, init: init };
})();
