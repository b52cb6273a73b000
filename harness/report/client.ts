// client -- the script inlined into index.html. It renders a group's details
// only when the group is opened (by its summary line, a timeline band or the
// URL's #fragment), from the JSON embedded in the page: a run with 100,000
// crash points must not build its whole DOM up front.
//
// Plain ES2017 in a string: the page runs it as is, with no build step, and
// every text it shows goes through textContent (never innerHTML).

export const CLIENT_SCRIPT = String.raw`(function () {
  'use strict';
  var dataNode = document.getElementById('pmfit-data');
  var data = dataNode ? JSON.parse(dataNode.textContent) : { runs: [] };
  var KIND = {
    ok: 'ok',
    invariant: 'invariant violated',
    'recovery-crashed': 'recovery crashed',
    'recovery-timeout': 'recovery timed out',
    'recovery-failed': 'recovery failed',
    'recovery-not-crash-safe': 'recovery is not crash-safe'
  };

  function append(node, children) {
    if (children === null || children === undefined || children === false) return node;
    if (!Array.isArray(children)) children = [children];
    for (var i = 0; i < children.length; i++) {
      var child = children[i];
      if (child === null || child === undefined || child === false) continue;
      if (Array.isArray(child)) { append(node, child); continue; }
      node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var key in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, key) || attrs[key] === undefined || attrs[key] === null) continue;
        if (key === 'class') node.className = attrs[key];
        else node.setAttribute(key, String(attrs[key]));
      }
    }
    return append(node, children);
  }

  function stripAnsi(text) {
    return String(text).replace(/\x1b\[[0-?]*[ -\/]*[@-~]/g, '');
  }

  function bytesOf(hexText) {
    var clean = String(hexText || '').replace(/[^0-9a-fA-F]/g, '').toLowerCase();
    var out = [];
    for (var i = 0; i + 1 < clean.length; i += 2) out.push(clean.substr(i, 2));
    return out;
  }

  function pad(text, width) {
    text = String(text);
    while (text.length < width) text = '0' + text;
    return text;
  }

  function printable(byteHex) {
    var code = parseInt(byteHex, 16);
    return code >= 0x20 && code < 0x7f ? String.fromCharCode(code) : '.';
  }

  function plural(n, word) {
    return Number(n).toLocaleString('en-US') + ' ' + word + (n === 1 ? '' : 's');
  }

  /* One row of 16 bytes: each byte that differs between the durable state
     and the image is marked, on both sides. */
  function hexCell(bytes, other, from, side) {
    var cell = h('td', { class: 'hex ' + side });
    for (var i = from; i < from + 16; i++) {
      if (i > from) cell.appendChild(document.createTextNode(i % 8 === 0 ? '  ' : ' '));
      if (i >= bytes.length) { cell.appendChild(document.createTextNode('  ')); continue; }
      var changed = bytes[i] !== other[i];
      cell.appendChild(h('span', changed ? { class: 'chg', title: 'byte +0x' + pad(i.toString(16), 2) + ': ' + (side === 'durable' ? bytes[i] + ' \u2192 ' + (other[i] || '--') : (other[i] || '--') + ' \u2192 ' + bytes[i]) } : null, bytes[i]));
    }
    return cell;
  }

  function lineDiff(diff) {
    var durable = bytesOf(diff.durable);
    var image = bytesOf(diff.image);
    var size = Math.max(durable.length, image.length);
    var changed = 0;
    for (var i = 0; i < size; i++) if (durable[i] !== image[i]) changed++;
    var offset = Number(diff.offset) || 0;
    var table = h('table', { class: 'dump' }, h('thead', null, h('tr', null, [
      h('th', null, 'offset'), h('th', null, 'last guaranteed durable'), h('th', null, 'crash image'), h('th', null, 'image text')
    ])));
    var body = h('tbody');
    for (var row = 0; row < size; row += 16) {
      var text = '';
      for (var j = row; j < row + 16 && j < image.length; j++) text += printable(image[j]);
      body.appendChild(h('tr', null, [
        h('td', { class: 'off' }, '0x' + pad((offset + row).toString(16), 8)),
        hexCell(durable, image, row, 'durable'),
        hexCell(image, durable, row, 'image'),
        h('td', { class: 'ascii' }, text)
      ]));
    }
    table.appendChild(body);
    return h('div', { class: 'line' }, [
      h('div', { class: 'line-head' }, [
        h('code', null, diff.file), ' line at offset ', h('code', null, '0x' + offset.toString(16)),
        ' \u2014 ' + plural(changed, 'byte') + ' differ'
      ]),
      h('div', { class: 'scroll' }, table)
    ]);
  }

  function site(next) {
    var parts = [h('code', { class: 'insn' }, next.text || '(unknown instruction)')];
    if (next.symbol) parts.push(' in ', h('code', null, next.symbol));
    if (next.module) parts.push(' (' + next.module + ')');
    parts.push(' at ', h('code', null, next.address));
    if (next.file) {
      parts.push(' \u2014 ', h('span', { class: 'src' }, next.file + (next.line !== undefined && next.line !== null ? ':' + next.line : '')));
    }
    if (next.thread !== undefined && next.thread !== null) parts.push(' \u2014 ', h('span', { class: 'thread' }, 'thread ' + next.thread));
    return h('span', { class: 'site' }, parts);
  }

  // stack-text.ts's stackLines, for the group detail built here.
  function stackLines(next) {
    return next.stack.map(function (frame, i) {
      var at = frame.symbol || frame.address;
      if (frame.file) at += ' ' + frame.file + ':' + frame.line;
      else if (frame.module) at += ' (' + frame.module + ')';
      return (i === next.frame ? '>' : ' ') + ' at ' + at;
    });
  }

  function copyText(text, button) {
    function done(ok) {
      button.textContent = ok ? 'Copied' : 'Copy failed';
      setTimeout(function () { button.textContent = 'Copy'; }, 1500);
    }
    function fallback() {
      var area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(area);
      done(ok);
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
    } else {
      fallback();
    }
  }

  function section(title, content) {
    return h('section', { class: 'part' }, [h('h5', null, title), content]);
  }

  function fact(list, name, value) {
    list.appendChild(h('dt', null, name));
    list.appendChild(h('dd', null, value));
  }

  function renderDetail(run, group) {
    var example = group.example || {};
    var out = document.createDocumentFragment();
    var facts = h('dl', { class: 'facts' });
    fact(facts, 'Outcome', (KIND[group.kind] || group.kind) + (group.violation ? (run.expect === 'violations' ? ' (expected: positive control)' : ' (violation)') : ''));
    fact(facts, 'Crash points', [plural(group.count, 'crash point') + ', ' + plural(group.images, 'distinct image'),
      h('div', { class: 'ranges' }, group.crashPoints || '(none)')]);
    if (example.k !== undefined) {
      fact(facts, 'Example', ['crash point ', h('b', { class: 'k' }, 'k = ' + example.k), example.hash ? [' \u00b7 image ', h('code', null, example.hash)] : null]);
    }
    if (example.next) fact(facts, 'Next instruction', site(example.next));
    // Where the program was: the own frame (file:line above) marked ">".
    if (example.next && example.next.stack && example.next.stack.length) {
      fact(facts, 'Call stack', h('pre', { class: 'stack' }, stackLines(example.next).join('\n')));
    }
    out.appendChild(facts);

    if (group.failed && group.failed.length) {
      var list = h('ul', { class: 'failed' });
      for (var i = 0; i < group.failed.length; i++) list.appendChild(h('li', null, group.failed[i]));
      out.appendChild(section('Failed invariants', list));
    }
    if (example.lines && example.lines.length) {
      var lines = h('div', { class: 'lines' });
      for (var l = 0; l < example.lines.length; l++) lines.appendChild(lineDiff(example.lines[l]));
      out.appendChild(section('PM lines that differ from the last guaranteed durable state (crash point ' + example.k + ')', lines));
    }
    if (group.recoveryOutput) {
      out.appendChild(section('Recovery output', h('pre', { class: 'output' }, stripAnsi(group.recoveryOutput))));
    }
    if (example.describe !== undefined && example.describe !== null) {
      out.appendChild(section('Crash state', h('pre', { class: 'output' }, typeof example.describe === 'string' ? example.describe : JSON.stringify(example.describe, null, 2))));
    }
    if (example.reproduce) {
      var button = h('button', { type: 'button', class: 'copy', 'data-copy': '' }, 'Copy');
      out.appendChild(section('Reproduce', h('div', { class: 'cmd' }, [h('pre', null, example.reproduce), button])));
    }
    return out;
  }

  function ensureRendered(details) {
    if (details.getAttribute('data-rendered')) return;
    var run = data.runs[Number(details.getAttribute('data-run'))];
    var group = run && run.groups[Number(details.getAttribute('data-group'))];
    var slot = details.querySelector('.detail');
    if (!group || !slot) return;
    slot.textContent = '';
    slot.appendChild(renderDetail(run, group));
    details.setAttribute('data-rendered', '1');
  }

  function openGroup(id, scroll) {
    var details = document.getElementById(id);
    if (!details || !details.classList.contains('group')) return false;
    details.open = true;
    ensureRendered(details);
    if (scroll) details.scrollIntoView({ block: 'start' });
    details.classList.remove('flash');
    void details.offsetWidth;
    details.classList.add('flash');
    return true;
  }

  document.addEventListener('toggle', function (event) {
    var target = event.target;
    if (target && target.classList && target.classList.contains('group') && target.open) ensureRendered(target);
  }, true);

  document.addEventListener('click', function (event) {
    var target = event.target;
    if (!target || !target.closest) return;
    var copy = target.closest('[data-copy]');
    if (copy) {
      var pre = copy.parentNode.querySelector('pre');
      if (pre) copyText(pre.textContent, copy);
      return;
    }
    var band = target.closest('[data-goto]');
    if (band) {
      var id = band.getAttribute('data-goto');
      if (openGroup(id, true) && history.replaceState) history.replaceState(null, '', '#' + id);
      event.preventDefault();
    }
  });

  function fromHash() {
    if (location.hash.length > 1) openGroup(decodeURIComponent(location.hash.slice(1)), true);
  }
  window.addEventListener('hashchange', fromHash);
  fromHash();
})();
`;
