// keyhound's report page: sorts, filters, pages and expands the findings table. The rows are
// all in the HTML; this script only shows, hides and reorders them, and never adds markup made
// from the report's text. With tens of thousands of rows, a change touches only the rows of the
// page shown before and after it: the style sheet hides every row without the class `on`, and
// the rows of a page are moved, in order, to the end of the table.
(function () {
  'use strict';
  var doc = document;
  var root = doc.documentElement;
  var body = doc.getElementById('rows');
  if (!body) {
    root.classList.add('paged');
    return;
  }
  var severityRank = { critical: 4, high: 3, medium: 2, low: 1, info: 0 };
  var confidenceRank = { high: 3, medium: 2, low: 1, example: 0 };
  var rows = [];
  for (var tr = body.firstElementChild; tr; ) {
    var detail = tr.nextElementSibling;
    rows.push({ main: tr, detail: detail, index: rows.length, text: null, key: null });
    tr = detail ? detail.nextElementSibling : null;
  }
  var state = { query: '', filters: {}, column: -1, direction: 1, page: 0, size: 100 };
  // The rows that match, in the order shown; the rows of the page on show.
  var shown = rows;
  var onPage = [];
  var byId = function (id) { return doc.getElementById(id); };
  var headers = doc.querySelectorAll('#table thead th');
  var status = byId('status');

  // What a row holds for a filter: its confidence (c) and rule (r) are its cells' text; its
  // severity (s), place (h), verification (v) and whether it fails the scan (x) are attributes,
  // left out when they have their usual value (see rows.rs).
  var cellOf = { c: 1, r: 2 };
  function valueOf(row, attribute) {
    if (attribute === 'c' || attribute === 'r') {
      return row.main.cells[cellOf[attribute]].textContent;
    }
    var value = row.main.getAttribute('data-' + attribute);
    if (value === null) return attribute === 'x' ? '1' : '';
    return value;
  }

  // The rule and verification filters offer the values the rows hold.
  [['f-r', 'r'], ['f-v', 'v']].forEach(function (pair) {
    var select = byId(pair[0]);
    // Values are rule ids from rule files: no key of an ordinary object may stand for one.
    var seen = Object.create(null);
    var values = [];
    rows.forEach(function (row) {
      var value = valueOf(row, pair[1]);
      if (value && !seen[value]) {
        seen[value] = true;
        values.push(value);
      }
    });
    values.sort().forEach(function (value) {
      var option = doc.createElement('option');
      option.textContent = value;
      select.appendChild(option);
    });
  });

  function sortKey(row, column) {
    var main = row.main;
    switch (column) {
      case 0: return severityRank[main.getAttribute('data-s')] || 0;
      case 1: return confidenceRank[valueOf(row, 'c')] || 0;
      case 5:
        var time = main.getAttribute('data-t');
        return time ? Number(time) : -Infinity;
      default: return main.cells[column].textContent;
    }
  }

  function matches(row) {
    for (var attribute in state.filters) {
      var wanted = state.filters[attribute];
      if (wanted && valueOf(row, attribute) !== wanted) {
        return false;
      }
    }
    if (state.query) {
      if (row.text === null) {
        row.text = (row.main.textContent + ' ' + row.detail.textContent).toLowerCase();
      }
      if (row.text.indexOf(state.query) < 0) {
        return false;
      }
    }
    return true;
  }

  function number(n) {
    return n.toLocaleString('en');
  }

  // Filters and sorts the rows again, then shows the first page.
  function refilter() {
    shown = rows.filter(matches);
    if (state.column >= 0) {
      var column = state.column;
      var direction = state.direction;
      shown.forEach(function (row) { row.key = sortKey(row, column); });
      shown.sort(function (a, b) {
        if (a.key < b.key) return -direction;
        if (a.key > b.key) return direction;
        return a.index - b.index;
      });
    }
    state.page = 0;
    render();
  }

  // Shows the page `state.page` of the rows that match.
  function render() {
    var size = state.size || Math.max(shown.length, 1);
    var pages = Math.max(1, Math.ceil(shown.length / size));
    state.page = Math.max(0, Math.min(state.page, pages - 1));
    var first = state.page * size;
    var last = Math.min(shown.length, first + size);
    onPage.forEach(function (row) {
      row.main.classList.remove('on');
      row.detail.classList.remove('on');
    });
    onPage = shown.slice(first, last);
    var page = doc.createDocumentFragment();
    onPage.forEach(function (row) {
      row.main.classList.add('on');
      row.detail.classList.add('on');
      if (row.main.tabIndex !== 0) {
        row.main.tabIndex = 0;
        row.main.setAttribute('aria-expanded', row.main.classList.contains('open'));
      }
      page.appendChild(row.main);
      page.appendChild(row.detail);
    });
    body.appendChild(page);
    status.textContent = shown.length
      ? 'Showing ' + number(first + 1) + '–' + number(last) + ' of ' + number(shown.length) +
        (shown.length < rows.length ? ' matching secrets (' + number(rows.length) + ' in all)' : ' secrets')
      : 'No secret matches (' + number(rows.length) + ' in all).';
    byId('page').textContent = 'Page ' + (state.page + 1) + ' of ' + pages;
    byId('prev').disabled = state.page === 0;
    byId('next').disabled = state.page >= pages - 1;
  }

  function setOpen(row, open) {
    row.main.classList.toggle('open', open);
    row.detail.classList.toggle('open', open);
    row.main.setAttribute('aria-expanded', open);
    row.detail.querySelector('details').open = open;
  }

  var rowIndex = new Map(rows.map(function (row) { return [row.main, row]; }));
  body.addEventListener('click', function (event) {
    if (event.target.closest('a') || String(window.getSelection())) return;
    var main = event.target.closest('tr.f');
    var row = main && rowIndex.get(main);
    if (row) setOpen(row, !main.classList.contains('open'));
  });
  body.addEventListener('keydown', function (event) {
    if (event.key !== 'Enter' && event.key !== ' ') return;
    var row = rowIndex.get(event.target);
    if (row) {
      event.preventDefault();
      setOpen(row, !row.main.classList.contains('open'));
    }
  });

  Array.prototype.forEach.call(headers, function (header) {
    header.tabIndex = 0;
    var sortBy = function () {
      var column = Number(header.getAttribute('data-col'));
      // Severity, confidence and dates read best largest first.
      var firstDirection = column === 0 || column === 1 || column === 5 ? -1 : 1;
      state.direction = state.column === column ? -state.direction : firstDirection;
      state.column = column;
      Array.prototype.forEach.call(headers, function (other) { other.removeAttribute('aria-sort'); });
      header.setAttribute('aria-sort', state.direction > 0 ? 'ascending' : 'descending');
      refilter();
    };
    header.addEventListener('click', sortBy);
    header.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        sortBy();
      }
    });
  });

  // On a long table, filtering waits for typing to pause.
  var pending = 0;
  byId('q').addEventListener('input', function (event) {
    var apply = function () {
      state.query = event.target.value.trim().toLowerCase();
      refilter();
    };
    clearTimeout(pending);
    if (rows.length > 2000) {
      pending = setTimeout(apply, 150);
    } else {
      apply();
    }
  });
  Array.prototype.forEach.call(doc.querySelectorAll('#controls select'), function (select) {
    select.addEventListener('change', function () {
      state.filters[select.getAttribute('data-attr')] = select.value;
      refilter();
    });
  });
  byId('controls').addEventListener('submit', function (event) { event.preventDefault(); });
  byId('prev').addEventListener('click', function () { state.page -= 1; render(); });
  byId('next').addEventListener('click', function () { state.page += 1; render(); });
  byId('size').addEventListener('change', function (event) {
    state.size = Number(event.target.value);
    state.page = 0;
    render();
  });
  byId('expand').addEventListener('click', function () {
    onPage.forEach(function (row) { setOpen(row, true); });
  });
  byId('collapse').addEventListener('click', function () {
    rows.forEach(function (row) {
      if (row.main.classList.contains('open')) setOpen(row, false);
    });
  });

  // A printout holds every matching secret, expanded.
  var beforePrint = null;
  window.addEventListener('beforeprint', function () {
    beforePrint = {
      size: state.size,
      page: state.page,
      closed: shown.filter(function (row) { return !row.main.classList.contains('open'); })
    };
    state.size = 0;
    render();
    beforePrint.closed.forEach(function (row) { setOpen(row, true); });
  });
  window.addEventListener('afterprint', function () {
    if (!beforePrint) return;
    beforePrint.closed.forEach(function (row) { setOpen(row, false); });
    state.size = beforePrint.size;
    state.page = beforePrint.page;
    beforePrint = null;
    render();
  });

  byId('controls').hidden = false;
  byId('pager').hidden = false;
  render();
  root.classList.add('paged');
})();
