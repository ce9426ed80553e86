// The search page's scripts (the page works without them):
//   * a sponsored slot's impression beacon is sent once the slot is at least half visible — the
//     begin-to-render moment Lumen bills on — and never more than once per slot and page view;
//   * on the answer page, a new question (the top box, the follow-up box) streams in place from
//     the server-sent events of POST /api/v1/search instead of loading a new page: sources first,
//     then the answer as it is written, then citation checks and the sponsored slot. Without
//     fetch streaming (or on any failure) the form submits normally and the server renders it;
//   * the home page's first question loads the answer page's shell (stream=1) at once and the
//     answer streams into it the same way.
// Text from the server is always set with textContent, never parsed as HTML.
'use strict';
(function () {
  function send(url) {
    if (navigator.sendBeacon && navigator.sendBeacon(url)) return;
    fetch(url, { method: 'POST', keepalive: true, credentials: 'same-origin' }).catch(function () {});
  }

  var observer = null;
  function watch(root) {
    var slots = (root || document).querySelectorAll('.sponsored[data-impression]');
    if (!slots.length || !('IntersectionObserver' in window)) return;
    if (!observer) {
      observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (entry.intersectionRatio < 0.5) return;
          var el = entry.target;
          observer.unobserve(el);
          if (el.dataset.counted) return;
          el.dataset.counted = '1';
          send(el.dataset.impression);
        });
      }, { threshold: [0.5] });
    }
    slots.forEach(function (el) { observer.observe(el); });
  }

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // The answer's markdown as DOM: paragraphs, `code`, and [n] / [n, m] markers as links to the
  // source cards (title = the source's snippet), like the server's AnswerHtml.
  function renderAnswer(container, text, sources) {
    container.textContent = '';
    text.split(/\n{2,}/).forEach(function (para) {
      var p = el('p');
      var re = /\[(\d+(?:\s*,\s*\d+)*)\]/g;
      var last = 0;
      var m;
      var addText = function (s) {
        s.split('`').forEach(function (part, i) {
          if (!part) return;
          p.appendChild(i % 2 ? el('code', '', part) : document.createTextNode(part));
        });
      };
      while ((m = re.exec(para)) !== null) {
        addText(para.slice(last, m.index));
        var sup = el('sup', 'cites');
        m[1].split(',').forEach(function (nText) {
          var n = nText.trim();
          var a = el('a', 'cite', '[' + n + ']');
          a.href = '#source-' + n;
          a.setAttribute('aria-label', 'Source ' + n);
          var s = sources[n];
          if (s) a.title = s.title + ' — ' + s.snippet;
          sup.appendChild(a);
        });
        p.appendChild(sup);
        last = re.lastIndex;
      }
      addText(para.slice(last));
      container.appendChild(p);
    });
  }

  function sourcesSection(list) {
    var section = el('section', 'sources');
    section.setAttribute('aria-label', 'Sources');
    section.appendChild(el('h2', '', 'Sources'));
    var ol = el('ol');
    list.forEach(function (s) {
      var site = s.site || (s.url.split('/')[2] || '');
      var letter = ((s.title || site).match(/[A-Za-z]/) || ['?'])[0].toUpperCase();
      var li = el('li', 'source');
      li.id = 'source-' + s.n;
      var avatar = el('span', 'avatar', letter);
      avatar.setAttribute('aria-hidden', 'true');
      li.appendChild(avatar);
      var div = el('div');
      var a = el('a', '', s.title || s.url);
      a.href = s.url;
      a.rel = 'noopener';
      div.appendChild(a);
      div.appendChild(el('div', 'site', site + (s.heading ? ' · ' + s.heading : '')));
      div.appendChild(el('p', 'snippet', s.snippet || ''));
      li.appendChild(div);
      ol.appendChild(li);
    });
    section.appendChild(ol);
    return section;
  }

  function sponsoredAside(slot) {
    var aside = el('aside', 'sponsored');
    aside.setAttribute('aria-label', 'Sponsored');
    aside.dataset.impression = slot.impression_url;
    aside.appendChild(el('div', 'sponsored-label', slot.label || 'Sponsored'));
    var a = el('a', 'sponsored-title', slot.title);
    a.rel = 'sponsored noopener';
    a.href = slot.click_url;
    aside.appendChild(a);
    aside.appendChild(el('p', '', slot.body));
    aside.appendChild(el('div', 'site', slot.display_url));
    return aside;
  }

  // The "Related" list of the server-rendered page (web/search_page.cc RelatedHtml): each
  // question links to its own answer page in the same thread.
  function relatedSection(list, threadId) {
    var section = el('section', 'related');
    section.setAttribute('aria-label', 'Related');
    section.appendChild(el('h2', '', 'Related'));
    var ul = el('ul');
    list.forEach(function (q) {
      var li = el('li');
      var a = el('a', '', q);
      a.href = '/search?q=' + encodeURIComponent(q) +
                (threadId ? '&thread_id=' + encodeURIComponent(threadId) : '');
      li.appendChild(a);
      ul.appendChild(li);
    });
    section.appendChild(ul);
    return section;
  }

  // Streams the answer to `q` into the current answer page. Resolves false when streaming is
  // not possible (the caller then lets the form submit).
  function streamAnswer(q, threadId, replace) {
    var main = document.querySelector('main.results');
    var answer = main && main.querySelector('.answer');
    if (!answer) return Promise.resolve(false);
    return fetch('/api/v1/search', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Accept': 'text/event-stream' },
      body: JSON.stringify({ query: q, thread_id: threadId || undefined, stream: true }),
      credentials: 'same-origin',
    }).then(function (res) {
      if (!res.ok || !res.body || !res.body.getReader) return false;
      main.querySelectorAll('.sources, .related, .sponsored').forEach(function (n) { n.remove(); });
      main.querySelector('h1.question').textContent = q;
      document.title = q + ' – Lumen';
      document.querySelectorAll('input[name=q]').forEach(function (i) { i.value = i.id === 'q' ? q : ''; });
      answer.textContent = '';
      answer.setAttribute('aria-busy', 'true');
      var body = el('div', 'answer-text');
      answer.appendChild(body);
      var sources = {};
      var related = [];
      var text = '';
      var anchor = answer.nextSibling;
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      var buffer = '';
      function handle(event, data) {
        if (event === 'sources') {
          data.forEach(function (s) { sources[s.n] = s; });
          if (data.length) main.insertBefore(sourcesSection(data), anchor);
        } else if (event === 'delta') {
          text += data.text || '';
          renderAnswer(body, text, sources);
        } else if (event === 'citations') {
          related = data.related || [];
          answer.appendChild(el('p', 'meta', 'citation recall ' +
              Math.round(data.citation_recall * 100) + '% · precision ' +
              Math.round(data.citation_precision * 100) + '%'));
        } else if (event === 'sponsored') {
          var first = main.querySelector('.sources') || anchor;
          data.forEach(function (slot) { main.insertBefore(sponsoredAside(slot), first); });
          watch(main);
        } else if (event === 'done') {
          var hidden = document.querySelector('input[name=thread_id]');
          if (hidden && data.thread_id) hidden.value = data.thread_id;
          // Related questions wait for the thread id, which their links carry.
          if (related.length) {
            main.insertBefore(relatedSection(related, data.thread_id),
                              main.querySelector('form.followup'));
          }
          var url = '/search?q=' + encodeURIComponent(q) +
                    (data.thread_id ? '&thread_id=' + encodeURIComponent(data.thread_id) : '');
          history[replace ? 'replaceState' : 'pushState']({ q: q }, '', url);
        } else if (event === 'error') {
          answer.appendChild(el('p', 'notice', (data.error && data.error.message) || data.message ||
                                'The answer could not be completed.'));
        }
      }
      function pump() {
        return reader.read().then(function (r) {
          if (r.done) {
            answer.removeAttribute('aria-busy');
            return true;
          }
          buffer += decoder.decode(r.value, { stream: true });
          var end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            var block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            var event = 'message';
            var data = '';
            block.split('\n').forEach(function (line) {
              if (line.indexOf('event: ') === 0) event = line.slice(7);
              else if (line.indexOf('data: ') === 0) data += line.slice(6);
            });
            try { handle(event, JSON.parse(data)); } catch (e) { /* a malformed event is skipped */ }
          }
          return pump();
        });
      }
      return pump();
    }).catch(function () { return false; });
  }

  function canStream() {
    return !!(window.fetch && window.TextDecoder && window.ReadableStream);
  }

  // The home page's form asks for the streaming page (stream=1): it arrives at once and the
  // answer streams into it. The parameter is only ever added here, so pages without script
  // never see the empty shell.
  function enhanceHomeForm() {
    if (document.querySelector('main.results') || !canStream()) return;
    document.querySelectorAll('form.search').forEach(function (form) {
      var flag = document.createElement('input');
      flag.type = 'hidden';
      flag.name = 'stream';
      flag.value = '1';
      form.appendChild(flag);
    });
  }

  function streamShell() {
    var shell = document.querySelector('main.results .answer [data-stream]');
    if (!shell) return;
    var q = document.querySelector('h1.question').textContent;
    var hidden = document.querySelector('input[name=thread_id]');
    streamAnswer(q, hidden ? hidden.value : '', true).then(function (ok) {
      if (!ok) {
        var plain = '/search?q=' + encodeURIComponent(q);
        if (hidden && hidden.value) plain += '&thread_id=' + encodeURIComponent(hidden.value);
        location.replace(plain);
      }
    });
  }

  function enhanceForms() {
    if (!document.querySelector('main.results .answer') || !canStream()) return;
    document.querySelectorAll('form.search').forEach(function (form) {
      form.addEventListener('submit', function (ev) {
        var q = (form.querySelector('input[name=q]').value || '').trim();
        if (!q || form.dataset.fallback) return;
        ev.preventDefault();
        var hidden = form.querySelector('input[name=thread_id]');
        streamAnswer(q, hidden ? hidden.value : '').then(function (ok) {
          if (!ok) {
            form.dataset.fallback = '1';
            form.submit();
          }
        });
      });
    });
    window.addEventListener('popstate', function () { location.reload(); });
  }

  function start() {
    watch(document);
    enhanceHomeForm();
    enhanceForms();
    streamShell();
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
