// Sends a sponsored slot's impression beacon once the slot is at least half visible — the
// begin-to-render moment Lumen bills on — and never more than once per slot and page view.
'use strict';
(function () {
  function send(url) {
    if (navigator.sendBeacon && navigator.sendBeacon(url)) return;
    fetch(url, { method: 'POST', keepalive: true, credentials: 'same-origin' }).catch(function () {});
  }
  function watch() {
    var slots = document.querySelectorAll('.sponsored[data-impression]');
    if (!slots.length || !('IntersectionObserver' in window)) return;
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.intersectionRatio < 0.5) return;
        var el = entry.target;
        observer.unobserve(el);
        if (el.dataset.counted) return;
        el.dataset.counted = '1';
        send(el.dataset.impression);
      });
    }, { threshold: [0.5] });
    slots.forEach(function (el) { observer.observe(el); });
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', watch);
  } else {
    watch();
  }
})();
