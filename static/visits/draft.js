/* Offline drafts of the visit form: nothing typed is ever lost.

   - Every input is saved to localStorage under the form's data-draft-key, with the hidden
     client_key (a UUID the server gave this draft), so a draft sent twice makes one visit.
   - On load a pending draft is restored ("已恢复未提交的草稿", with a discard button).
   - Submitting posts with fetch. Offline (navigator.onLine false, or the fetch fails) the draft
     is kept and sent again on the "online" event (and every 15 s as a fallback); once the
     server has it, the draft is cleared and the visit's page opened. A refused form (400/409)
     is posted normally so the page shows the server's messages with every field kept.
   - A visit's page forgets the draft it was made from (data-sent-draft). */
(function () {
  "use strict";
  var PREFIX = "rongxie.visit-draft.";
  var RETRY_MS = 15000;

  function parse(raw) { try { return JSON.parse(raw); } catch (e) { return null; } }

  var sent = document.querySelector("[data-sent-draft]");
  if (sent) {
    Object.keys(localStorage).forEach(function (key) {
      var draft = key.indexOf(PREFIX) === 0 && parse(localStorage.getItem(key));
      var keyOf = draft && draft.fields && draft.fields.client_key;
      if (keyOf && keyOf[0] === sent.dataset.sentDraft) localStorage.removeItem(key);
    });
  }

  var form = document.getElementById("visit-form");
  if (!form) return;
  var storageKey = form.dataset.draftKey;
  var restoredNotice = document.getElementById("draft-restored");
  var offlineNotice = document.getElementById("draft-offline");
  var sending = false;
  var retry = null;

  function fields() {
    var values = {};
    new FormData(form).forEach(function (value, name) {
      if (name === "csrfmiddlewaretoken") return;
      (values[name] = values[name] || []).push(value);
    });
    return values;
  }
  function save(queued) {
    localStorage.setItem(storageKey, JSON.stringify({ fields: fields(), queued: !!queued, savedAt: Date.now() }));
  }
  function stored() { return parse(localStorage.getItem(storageKey)); }
  function clear() { localStorage.removeItem(storageKey); }

  function restore(draft) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken" || el.type === "submit") return;
      var values = draft.fields[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") el.checked = values.indexOf(el.value) !== -1;
      else if (el.name in draft.fields) el.value = values[0];
    });
    form.dispatchEvent(new Event("draft:restored"));
  }

  function waitForNetwork() {
    save(true);
    offlineNotice.hidden = false;
    if (retry === null) retry = setInterval(send, RETRY_MS);
  }

  function send() {
    if (sending) return;
    if (!navigator.onLine) { waitForNetwork(); return; }
    sending = true;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Visit-Draft": "1", "Accept": "application/json" },
    }).then(function (response) {
      sending = false;
      if (response.ok) {
        return response.json().then(function (answer) {
          clearInterval(retry);
          clear();
          window.location.assign(answer.url);
        });
      }
      clearInterval(retry);
      retry = null;
      offlineNotice.hidden = true;
      if (response.status === 400 || response.status === 409) {
        HTMLFormElement.prototype.submit.call(form); // the server's messages, every field kept
      } else {
        offlineNotice.textContent = form.dataset.sendFailed;
        offlineNotice.hidden = false;
      }
    }, function () {
      sending = false;
      waitForNetwork(); // no answer: keep the draft and try again when the network is back
    });
  }

  form.addEventListener("input", function () { save(false); });
  form.addEventListener("change", function () { save(false); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    save(true);
    send();
  });
  window.addEventListener("online", function () { if (retry !== null) send(); });
  document.getElementById("draft-discard").addEventListener("click", function () {
    clear();
    window.location.reload();
  });

  var draft = stored();
  var refused = document.getElementById("form-errors") || document.getElementById("edit-conflict");
  if (draft && draft.fields && !refused) {
    restore(draft);
    restoredNotice.hidden = false;
    if (draft.queued) send(); // submitted while offline, page opened again: send it now
  } else if (refused) {
    save(false); // the server kept every field: the draft follows what is on screen
  }
})();
