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
        var badge = document.getElementById('status-badge');
        if (status) { status.hidden = false; }
        if (form) { form.hidden = true; }
        // The status badge says what the server now records.
        if (badge && badge.getAttribute('data-read-label')) {
          badge.textContent = badge.getAttribute('data-read-label');
          badge.className = 'badge status-reading';
        }
      });
    });
  });
  observer.observe(end);
})();

// The lesson editor: preview the text while it is typed. Without the
// script the form's Preview button does the same with a page load.
(function () {
  'use strict';
  var form = document.getElementById('editor');
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (!form || !meta || !window.fetch || !window.DOMParser) {
    return;
  }
  var text = document.getElementById('text');
  var quiz = document.getElementById('quiz');
  var preview = document.getElementById('preview');
  var problems = document.getElementById('text-problems');
  var timer = null;
  var seq = 0;
  function refresh() {
    var mine = ++seq;
    var body = new URLSearchParams();
    body.set('lang', form.querySelector('input[name="lang"]').value);
    body.set('text', text.value);
    body.set('quiz', quiz.value);
    fetch(form.getAttribute('data-preview-url'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': meta.getAttribute('content'), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: body.toString()
    }).then(function (res) {
      return res.status === 200 || res.status === 422 ? res.text() : null;
    }).then(function (html) {
      if (html === null || mine !== seq) {
        return;
      }
      // The server sanitized the preview with the readers' renderer.
      var doc = new DOMParser().parseFromString(html, 'text/html');
      var p = doc.querySelector('[data-part="problems"]');
      var v = doc.querySelector('[data-part="preview"]');
      if (p) { problems.replaceChildren.apply(problems, Array.prototype.slice.call(p.childNodes)); }
      if (v) { preview.replaceChildren.apply(preview, Array.prototype.slice.call(v.childNodes)); }
      if (p && p.querySelector('li')) { text.setAttribute('aria-invalid', 'true'); } else { text.removeAttribute('aria-invalid'); }
    }).catch(function () {});
  }
  text.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  });
})();

// Print buttons: shown only where the script runs (the page says how to
// print without it).
(function () {
  'use strict';
  Array.prototype.forEach.call(document.querySelectorAll('[data-print]'), function (b) {
    b.hidden = false;
    b.addEventListener('click', function () { window.print(); });
  });
})();

// The quiz form counts the questions answered. Without the script the
// server counts them when a submit leaves some blank.
(function () {
  'use strict';
  var form = document.getElementById('quiz-form');
  var out = document.getElementById('answered');
  if (!form || !out) {
    return;
  }
  var sets = form.querySelectorAll('fieldset.question');
  function count() {
    var n = 0;
    Array.prototype.forEach.call(sets, function (f) {
      if (f.querySelector('input:checked')) { n++; }
    });
    out.textContent = out.getAttribute('data-template').replace('{n}', String(n));
    out.hidden = false;
  }
  form.addEventListener('change', count);
  count();
})();

// Recovery codes: a copy button where the browser lets the page write to
// the clipboard (the download link and the list work without it).
(function () {
  'use strict';
  var button = document.getElementById('copy-codes');
  var list = document.getElementById('recovery-codes');
  if (!button || !list || !navigator.clipboard) {
    return;
  }
  button.hidden = false;
  button.addEventListener('click', function () {
    var codes = Array.prototype.map.call(list.querySelectorAll('code'), function (c) { return c.textContent; });
    navigator.clipboard.writeText(codes.join('\n') + '\n').then(function () {
      document.getElementById('copy-status').textContent = button.getAttribute('data-copied');
    });
  });
})();

// The account menu: Escape closes it and gives the focus back to its
// summary, as a menu button does (Enter and Space open it natively).
(function () {
  'use strict';
  var menu = document.getElementById('account-menu');
  if (!menu) {
    return;
  }
  menu.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && menu.open) {
      menu.open = false;
      menu.querySelector('summary').focus();
    }
  });
})();
