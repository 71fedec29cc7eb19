/**
 * The portal's two static files, served at /static/portal.css and /static/portal.js. They live
 * here as strings so `tsc` ships them in dist/ with the code; the browser still loads them as
 * files (the CSP allows no inline script or style).
 */

/** Copy buttons (they stay hidden without script) and print buttons. */
export const PORTAL_JS = `'use strict';
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('button[data-copy]').forEach(function (b) {
    if (!navigator.clipboard) return;
    b.hidden = false;
    b.addEventListener('click', function () {
      navigator.clipboard.writeText(b.getAttribute('data-copy') || '').then(function () {
        var s = document.getElementById(b.getAttribute('aria-describedby') || '');
        if (s) s.textContent = 'Copied.';
      });
    });
  });
  document.querySelectorAll('button[data-print]').forEach(function (b) {
    b.hidden = false;
    b.addEventListener('click', function () { window.print(); });
  });
});
`;

/** Readable on a phone: one column, large tap targets, contrast >= 4.5:1, visible focus. */
export const PORTAL_CSS = `*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-size:100%;line-height:1.5;color:#1a1a1a;background:#fff}
body{margin:0}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:#fff;padding:.5rem;z-index:2}
header{display:flex;flex-wrap:wrap;gap:0 1rem;align-items:center;justify-content:space-between;padding:.25rem 1rem;background:#0b3d6e;color:#fff}
header a{color:#fff}.brand{font-weight:700;text-decoration:none;font-size:1.15rem}
header nav a{margin-right:1rem}
.who{display:flex;flex-wrap:wrap;gap:0 .75rem;align-items:center}.who form{display:inline}
header button.link{color:#fff}
header nav a,header button.link,.brand{display:inline-block;min-height:2.75rem;padding:.6rem 0;line-height:1.5rem}
main{max-width:48rem;margin:0 auto;padding:1rem}
main:focus{outline:none}
main.wide{max-width:80rem}
td.detail-cell{font-size:.85rem;word-break:break-word}td time{white-space:nowrap}
h1{font-size:1.6rem;margin:.5rem 0 1rem}h2{font-size:1.25rem;margin:1.5rem 0 .5rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
label.check{font-weight:400;display:flex;gap:.5rem;align-items:center}
fieldset.choices{border:none;padding:0;margin:.75rem 0 0}fieldset.choices legend{font-weight:600;padding:0;margin-bottom:.25rem}fieldset.choices label.check{margin:.25rem 0;min-height:2.75rem}
input[type=text],input[type=email],input[type=password],input[type=search],input[type=datetime-local],select{width:100%;max-width:24rem;font-size:1.1rem;padding:.55rem;border:2px solid #555;border-radius:4px}
input[type=checkbox]{width:1.25rem;height:1.25rem}
form.inline{display:inline}
button,.button{display:inline-block;font:inherit;font-size:1rem;padding:.6rem 1.1rem;min-height:2.75rem;border-radius:4px;border:2px solid #0b3d6e;background:#0b3d6e;color:#fff;cursor:pointer;text-decoration:none;margin:.25rem .25rem .25rem 0}
.secondary{background:#fff;color:#0b3d6e}
.danger{background:#a4161a;border-color:#a4161a;color:#fff}
button.link{background:none;border:none;color:#0b3d6e;text-decoration:underline;padding:0;min-height:0;margin:0}
:focus-visible{outline:3px solid #1a1a1a;outline-offset:2px}
header :focus-visible{outline-color:#ffbf47}
.error{background:#fde8e8;border-left:4px solid #a4161a;padding:.75rem;color:#6b0f12}
.notice{background:#e7f3e8;border-left:4px solid #1d6b2a;padding:.75rem;color:#10421a}
dl.settings{display:grid;grid-template-columns:max-content 1fr;gap:.5rem 1rem}dl.settings dt{font-weight:600}dl.settings dd{margin:0}
dl.settings form{display:inline}
@media (max-width:36rem){dl.settings{grid-template-columns:1fr}dl.settings dd{margin-bottom:.75rem}}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.5rem;border-bottom:1px solid #bbb;vertical-align:top}
.detail{display:block;font-size:.85rem;color:#4a4a4a}
.code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:1.4rem;letter-spacing:.05em;word-spacing:.1em}
ol.codes{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:1.2rem;columns:2}
.qr{display:block;width:200px;height:200px;image-rendering:pixelated}
.dialog{border:2px solid #a4161a;border-radius:6px;padding:1rem}
.buttons{margin-top:1rem}
.table-wrap{overflow-x:auto}
@media (max-width:36rem){table.stack thead{position:absolute;left:-999px}table.stack tr{display:block;border-bottom:1px solid #bbb;padding:.5rem 0}table.stack td{display:block;border:none;padding:.15rem 0}table.stack td[data-label]::before{content:attr(data-label) ": ";font-weight:600}}
form.filters{display:flex;flex-wrap:wrap;gap:0 1rem;align-items:flex-end}.filters .field{flex:1 1 12rem;max-width:18rem}.filters .buttons{flex-basis:100%}
tfoot th,tfoot td{font-weight:700;border-top:2px solid #555}
.pager{margin:1rem 0}.exports{margin:1rem 0}
.chart{margin:0 0 1rem}.chart svg{display:block;width:100%;max-width:760px;height:auto}
.chart text{font-size:11px;fill:#333}.chart text.panel-title{font-size:13px;font-weight:600;fill:#1a1a1a}
.chart .baseline{stroke:#555;stroke-width:1}.chart .grid{stroke:#ccc;stroke-width:1;stroke-dasharray:3 3}
.c-enrol{fill:#1d6b2a;background:#1d6b2a}.c-refused{fill:#a4161a;background:#a4161a}.c-lockout{fill:#7a4b00;background:#7a4b00}
.c-p0{fill:#0b3d6e;background:#0b3d6e}.c-p1{fill:#2f7fc1;background:#2f7fc1}.c-p2{fill:#4d8a2f;background:#4d8a2f}
.c-p3{fill:#7d3c98;background:#7d3c98}.c-p4{fill:#b36b00;background:#b36b00}.c-p5{fill:#555;background:#555}
#chase{columns:18rem}
ul.legend{display:inline;list-style:none;padding:0;margin:0}ul.legend li{display:inline-block;margin-left:1rem}
.swatch{display:inline-block;width:.9rem;height:.9rem;margin-right:.3rem;vertical-align:middle}
body.print main{max-width:none}
@media print{header,.buttons,.skip,button{display:none!important}}
`;
