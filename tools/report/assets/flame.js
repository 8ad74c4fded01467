// Click a frame of a memory flame graph (tools/report/report_common.py,
// flame_svg) to zoom into it; click the root or press Escape to reset.
(function () {
  function fit(g, width) {
    var t = g.querySelector('text'); if (!t) return;
    var label = g.getAttribute('data-label') || '';
    var chars = Math.floor((width - 6) / 6.6);
    t.textContent = chars < 3 ? '' : (label.length > chars ? label.slice(0, chars - 1) + '\u2026' : label);
  }
  function zoom(svg, target) {
    var W = parseFloat(svg.getAttribute('data-width'));
    var x0 = parseFloat(target.getAttribute('data-x')), w0 = parseFloat(target.getAttribute('data-w'));
    var d0 = parseInt(target.getAttribute('data-depth'), 10);
    svg.querySelectorAll('g.f').forEach(function (g) {
      var x = parseFloat(g.getAttribute('data-x')), w = parseFloat(g.getAttribute('data-w'));
      var d = parseInt(g.getAttribute('data-depth'), 10);
      var rect = g.querySelector('rect'), text = g.querySelector('text');
      var nx, nw, show;
      if (d < d0) { show = x <= x0 + 1e-9 && x + w >= x0 + w0 - 1e-9; nx = 0; nw = W; }
      else { show = x >= x0 - 1e-9 && x + w <= x0 + w0 + 1e-9; nx = (x - x0) / w0 * W; nw = w / w0 * W; }
      g.style.display = show ? '' : 'none';
      if (!show) return;
      rect.setAttribute('x', nx.toFixed(2)); rect.setAttribute('width', Math.max(nw - 0.5, 0.1).toFixed(2));
      if (text) text.setAttribute('x', (nx + 3).toFixed(2));
      g.style.opacity = d < d0 ? 0.6 : 1;
      fit(g, nw);
    });
  }
  document.querySelectorAll('.flame svg').forEach(function (svg) {
    svg.addEventListener('click', function (ev) {
      var g = ev.target.closest('g.f'); if (g) zoom(svg, g);
    });
    document.addEventListener('keydown', function (ev) {
      if (ev.key === 'Escape') { var root = svg.querySelector('g.f[data-depth="0"]'); if (root) zoom(svg, root); }
    });
  });
})();
