// Conduct Portal: the little script the pages use. Every page works without it.
(function () {
  'use strict';
  // Record reading once the reader reaches the end of the lesson text; the
  // "I have read this" button stays for browsers without the observer.
  var end = document.getElementById('end-of-text');
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!end || !meta || !('IntersectionObserver' in window) || !window.fetch) {
    return;
  }
  var sent = false;
  var observer = new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting || sent) {
        return;
      }
      sent = true;
      observer.disconnect();
      fetch(end.getAttribute('data-read-url'), {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'X-CSRF-Token': meta.getAttribute('content'), 'Accept': 'application/json' }
      }).then(function (res) {
        if (!res.ok) {
          sent = false;
          return;
        }
        var status = document.getElementById('read-status');
        var form = document.getElementById('read-form');
        if (status) { status.hidden = false; }
        if (form) { form.hidden = true; }
      });
    });
  });
  observer.observe(end);
})();
