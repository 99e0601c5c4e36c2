/* Tongban portal: tiny controllers attached by data- attributes. Every page works without them. */
(function () {
  "use strict";

  // Forms marked data-autosubmit submit as soon as a select changes (the button stays for no-JS).
  function autosubmit(form) {
    form.querySelectorAll("[data-autosubmit-button]").forEach(function (b) { b.hidden = true; });
    form.addEventListener("change", function () { form.requestSubmit ? form.requestSubmit() : form.submit(); });
  }

  // Search filters: submit when a filter changes.
  function filters(form) {
    form.querySelectorAll(".filters [data-autosubmit-button]").forEach(function (b) { b.hidden = true; });
    form.querySelectorAll(".filters select").forEach(function (select) {
      select.addEventListener("change", function () {
        var page = form.querySelector("input[name=page]");
        if (page) page.remove();
        form.requestSubmit ? form.requestSubmit() : form.submit();
      });
    });
  }

  // Situations: re-filter the materials list in place when an answer changes.
  function situations(form) {
    var section = form.closest("[data-materials]");
    form.querySelectorAll("[data-autosubmit-button]").forEach(function (b) { b.hidden = true; });
    var pending = null;
    form.addEventListener("change", function () {
      var query = new URLSearchParams(new FormData(form)).toString();
      var url = window.location.pathname + (query ? "?" + query : "");
      if (pending) pending.abort();
      pending = new AbortController();
      section.setAttribute("aria-busy", "true");
      fetch(url, { signal: pending.signal, headers: { "X-Requested-With": "fetch" } })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.querySelector("[data-material-list]");
          var current = section.querySelector("[data-material-list]");
          if (fresh && current) current.replaceWith(fresh);
          document.querySelectorAll("[data-notice-link]").forEach(function (link) {
            var source = doc.querySelector("[data-notice-link]");
            if (source) link.setAttribute("href", source.getAttribute("href"));
          });
          history.replaceState(null, "", url);
        })
        .catch(function (error) { if (error.name !== "AbortError") form.submit(); })
        .finally(function () { section.removeAttribute("aria-busy"); });
    });
  }

  function start() {
    document.querySelectorAll("form[data-autosubmit]").forEach(autosubmit);
    document.querySelectorAll("form[data-filters]").forEach(filters);
    document.querySelectorAll("form[data-situations]").forEach(situations);
    var sw = document.body.getAttribute("data-sw");
    if (sw && "serviceWorker" in navigator && window.isSecureContext) {
      navigator.serviceWorker.register(sw, { scope: "/" }).catch(function () { /* optional */ });
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
