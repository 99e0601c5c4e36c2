// Applying: autosave the draft while typing, upload each file with a progress bar.
// The page works without this file: the form's buttons save, upload and submit.
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form) return;
  var status = form.querySelector("[data-autosave-status]");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var timer = null;

  function fields() {
    var data = new FormData();
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.type === "submit") return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      data.append(el.name, el.value);
    });
    data.set("action", "autosave");
    return data;
  }

  function save() {
    fetch(form.dataset.autosave, {
      method: "POST", body: fields(), credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "X-Requested-With": "fetch" }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (body) {
      if (body && status) {
        var at = new Date(body.at);
        status.textContent = status.dataset.savedText;
        status.textContent += at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      }
    }).catch(function () {});
  }

  form.addEventListener("input", function (e) {
    if (e.target.type === "file") return;
    clearTimeout(timer);
    timer = setTimeout(save, 1200);
  });

  form.addEventListener("change", function (e) {
    var input = e.target;
    if (input.type !== "file" || !input.dataset.upload) return;
    var box = input.closest("[data-material]");
    var bar = box.querySelector("[data-progress]");
    var list = box.querySelector("[data-files]");
    Array.prototype.forEach.call(input.files, function (file) {
      var body = new FormData();
      body.append("file", file);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", input.dataset.upload);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      bar.hidden = false; bar.value = 0;
      xhr.upload.onprogress = function (ev) { if (ev.lengthComputable) bar.value = 100 * ev.loaded / ev.total; };
      xhr.onload = function () {
        var answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = {}; }
        var li = document.createElement("li");
        if (xhr.status === 201) {
          li.textContent = answer.name;
          li.dataset.uploaded = "1";
        } else {
          li.className = "field-error";
          li.textContent = file.name + "：" + (answer.message || form.dataset.uploadFailed);
        }
        list.appendChild(li);
        bar.hidden = true;
      };
      xhr.send(body);
    });
    input.value = "";
  });
})();
