// parole live call view: lists the server's active conversations (calls
// and chats), follows one's transcript as it happens and draws each turn's
// latency as a waterfall. Reads {base}/api/calls (snapshot) and
// {base}/api/calls/events (server-sent events) of the server that serves
// it; no build step, no request to any other server.
(function () {
  'use strict';

  var SVGNS = 'http://www.w3.org/2000/svg';
  var TOKEN_KEY = 'parole.live.token';
  var params = new URLSearchParams(window.location.search);
  // The API lives on this server: only a same-origin path is accepted.
  var api = params.get('api') || document.body.getAttribute('data-api') || 'api/calls';
  if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(api)) { api = 'api/calls'; }

  var $ = function (id) { return document.getElementById(id); };
  var state = { seq: 0, convs: new Map(), selected: window.location.hash.slice(1) || null, offset: 0, max: 200 };
  var es = null, retry = null;

  function token() {
    try { return window.sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }
  function setToken(t) {
    try { window.sessionStorage.setItem(TOKEN_KEY, t); } catch (e) { /* private mode: token lives in memory only */ }
    memToken = t;
  }
  var memToken = '';
  function currentToken() { return token() || memToken; }

  function status(text, cls) {
    var s = $('status');
    s.textContent = text;
    s.className = 'status' + (cls ? ' ' + cls : '');
  }

  // ---- connection ----

  function start() {
    if (retry) { clearTimeout(retry); retry = null; }
    var headers = {};
    var t = currentToken();
    if (t) { headers.Authorization = 'Bearer ' + t; }
    fetch(api, { headers: headers, cache: 'no-store', credentials: 'same-origin' }).then(function (r) {
      if (r.status === 401) { askToken(t ? 'That token was refused.' : ''); return null; }
      if (!r.ok) { throw new Error('HTTP ' + r.status); }
      return r.json();
    }).then(function (snap) {
      if (!snap) { return; }
      $('auth').hidden = true;
      $('view').hidden = false;
      applySnapshot(snap);
      openStream();
    }).catch(function (e) {
      status('cannot reach the server: ' + e.message, 'error');
      retry = setTimeout(start, 3000);
    });
  }

  function askToken(msg) {
    if (es) { es.close(); es = null; }
    $('view').hidden = true;
    $('auth').hidden = false;
    $('auth-error').textContent = msg || '';
    status('authentication needed', 'error');
    $('token').focus();
  }

  function openStream() {
    if (es) { es.close(); }
    var t = currentToken();
    var url = api + '/events' + (t ? '?token=' + encodeURIComponent(t) : '');
    es = new EventSource(url);
    es.addEventListener('open', function () { status('live', 'ok'); });
    es.addEventListener('snapshot', function (e) { applySnapshot(JSON.parse(e.data)); });
    ['start', 'entry', 'interim', 'end', 'remove'].forEach(function (type) {
      es.addEventListener(type, function (e) { applyEvent(JSON.parse(e.data)); });
    });
    es.addEventListener('ping', function (e) {
      var p = JSON.parse(e.data);
      state.offset = Date.parse(p.now) - Date.now();
    });
    es.addEventListener('error', function () {
      if (es && es.readyState === EventSource.CLOSED) {
        // Refused (401, 503, …): find out why with a plain request.
        es.close(); es = null;
        status('disconnected, retrying…', 'error');
        retry = setTimeout(start, 2000);
      } else {
        status('reconnecting…', 'error');
      }
    });
  }

  $('auth').addEventListener('submit', function (e) {
    e.preventDefault();
    setToken($('token').value.trim());
    $('token').value = '';
    start();
  });

  // ---- state ----

  function applySnapshot(s) {
    state.seq = s.seq;
    state.max = s.max_transcript || 200;
    state.offset = Date.parse(s.now) - Date.now();
    state.convs = new Map();
    s.conversations.forEach(function (c) { state.convs.set(c.id, c); });
    renderList();
    renderDetail();
  }

  function applyEvent(ev) {
    if (ev.seq <= state.seq) { return; }
    state.seq = ev.seq;
    var c = state.convs.get(ev.conversation);
    switch (ev.type) {
      case 'start':
        c = ev.conversation_info;
        c.transcript = [];
        state.convs.set(c.id, c);
        renderList();
        if (state.selected === c.id) { renderDetail(); }
        return;
      case 'remove':
        state.convs.delete(ev.conversation);
        renderList();
        if (state.selected === ev.conversation) { renderDetail(); }
        return;
    }
    if (!c) { return; }
    c.turn = ev.turn;
    c.last_event = ev.time;
    var selected = state.selected === c.id;
    switch (ev.type) {
      case 'entry':
        c.transcript.push(ev.entry);
        if (ev.entry.kind === 'user' || ev.entry.kind === 'dtmf' || ev.entry.kind === 'barge_in') { c.interim = ''; }
        if (c.transcript.length > state.max) {
          c.transcript.splice(0, c.transcript.length - state.max);
          c.dropped = (c.dropped || 0) + 1;
          if (selected) { renderDetail(); return; }
        }
        if (selected) { appendEntry(ev.entry, c); renderInterim(c); scrollDown(); }
        break;
      case 'interim':
        c.interim = ev.text;
        if (selected) { renderInterim(c); scrollDown(); }
        break;
      case 'end':
        c.ended = ev.time;
        c.reason = ev.reason;
        c.interim = '';
        renderList();
        if (selected) { renderHead(c); renderInterim(c); }
        break;
    }
  }

  // ---- list ----

  var ICONS = {
    phone: 'M6.6 10.8a15.1 15.1 0 0 0 6.6 6.6l2.2-2.2a1 1 0 0 1 1-.25 11.4 11.4 0 0 0 3.6.57 1 1 0 0 1 1 1V20a1 1 0 0 1-1 1A17 17 0 0 1 3 4a1 1 0 0 1 1-1h3.5a1 1 0 0 1 1 1c0 1.25.2 2.45.57 3.57a1 1 0 0 1-.25 1z',
    browser: 'M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1A7 7 0 0 0 19 11z',
    chat: 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z'
  };
  var COLORS = { phone: '#1f5fbf', browser: '#17803d', chat: '#8e44ad' };

  function iconKind(c) {
    if (c.channel === 'webrtc') { return 'browser'; }
    return c.voice ? 'phone' : 'chat';
  }

  function icon(c) {
    var kind = iconKind(c);
    var svg = document.createElementNS(SVGNS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('class', 'icon-' + kind);
    var p = document.createElementNS(SVGNS, 'path');
    p.setAttribute('d', ICONS[kind]);
    p.setAttribute('fill', COLORS[kind]);
    svg.appendChild(p);
    return svg;
  }

  function label(c) {
    return (c.voice ? 'call' : 'chat') + ' · ' + c.channel;
  }

  function parties(c) {
    if (c.to) { return (c.from || 'unknown') + ' → ' + c.to; }
    return c.from || c.id;
  }

  function sortedConvs() {
    return Array.from(state.convs.values()).sort(function (a, b) {
      var ae = a.ended ? 1 : 0, be = b.ended ? 1 : 0;
      if (ae !== be) { return ae - be; }
      return Date.parse(b.started) - Date.parse(a.started);
    });
  }

  function renderList() {
    var ul = $('calls');
    ul.textContent = '';
    var list = sortedConvs();
    var active = 0;
    list.forEach(function (c) {
      if (!c.ended) { active++; }
      var li = document.createElement('li');
      li.className = 'call' + (c.ended ? ' ended' : '') + (state.selected === c.id ? ' selected' : '');
      li.setAttribute('data-id', c.id);
      li.setAttribute('data-channel', c.channel);
      li.tabIndex = 0;
      var ic = document.createElement('span');
      ic.className = 'icon';
      ic.appendChild(icon(c));
      var who = document.createElement('div');
      who.className = 'who';
      var l = document.createElement('div');
      l.className = 'label';
      l.textContent = label(c);
      var p = document.createElement('div');
      p.className = 'parties';
      p.textContent = parties(c);
      who.appendChild(l);
      who.appendChild(p);
      var dur = document.createElement('span');
      dur.className = 'dur';
      dur.setAttribute('data-started', c.started);
      if (c.ended) { dur.setAttribute('data-ended', c.ended); }
      dur.textContent = duration(c);
      var dot = document.createElement('span');
      dot.className = 'live-dot';
      dot.title = c.ended ? 'ended: ' + (c.reason || '') : 'active';
      li.appendChild(ic);
      li.appendChild(who);
      li.appendChild(dur);
      li.appendChild(dot);
      li.addEventListener('click', function () { select(c.id); });
      li.addEventListener('keydown', function (e) { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); select(c.id); } });
      ul.appendChild(li);
    });
    $('count').textContent = String(active);
    $('empty').hidden = list.length > 0;
  }

  function duration(c) {
    var end = c.ended ? Date.parse(c.ended) : Date.now() + state.offset;
    var s = Math.max(0, Math.floor((end - Date.parse(c.started)) / 1000));
    var m = Math.floor(s / 60);
    var h = Math.floor(m / 60);
    var pad = function (n) { return (n < 10 ? '0' : '') + n; };
    return (h ? h + ':' + pad(m % 60) : String(m)) + ':' + pad(s % 60);
  }

  setInterval(function () {
    document.querySelectorAll('.call').forEach(function (li) {
      var c = state.convs.get(li.getAttribute('data-id'));
      if (c && !c.ended) { li.querySelector('.dur').textContent = duration(c); }
    });
  }, 1000);

  function select(id) {
    state.selected = id;
    if (window.history && window.history.replaceState) { window.history.replaceState(null, '', '#' + encodeURIComponent(id)); }
    renderList();
    renderDetail();
  }

  // ---- transcript ----

  function renderHead(c) {
    var ic = $('conv-icon');
    ic.textContent = '';
    ic.appendChild(icon(c));
    $('conv-title').textContent = parties(c);
    var meta = label(c) + ' · started ' + new Date(c.started).toLocaleTimeString();
    if (c.ended) { meta += ' · ended (' + (c.reason || 'over') + ')'; }
    if (c.dropped) { meta += ' · ' + c.dropped + ' earlier lines not kept'; }
    $('conv-meta').textContent = meta;
  }

  function renderDetail() {
    var c = state.selected ? state.convs.get(state.selected) : null;
    $('placeholder').hidden = !!c;
    $('conversation').hidden = !c;
    if (!c) {
      if (state.selected) { $('placeholder').textContent = 'That conversation has left the view.'; }
      return;
    }
    renderHead(c);
    $('transcript').textContent = '';
    c.transcript.forEach(function (e) { appendEntry(e, c); });
    renderInterim(c);
    scrollDown();
  }

  function scrollDown() {
    var d = $('detail');
    d.scrollTop = d.scrollHeight;
  }

  function clock(ms) {
    var s = ms / 1000;
    var m = Math.floor(s / 60);
    var r = (s - m * 60).toFixed(1);
    return m + ':' + (r < 10 ? '0' : '') + r;
  }

  function appendEntry(e, c) {
    var ol = $('transcript');
    var li = document.createElement('li');
    li.className = 'entry ' + e.kind;
    li.setAttribute('data-kind', e.kind);
    li.setAttribute('data-turn', String(e.turn));
    var interim = ol.querySelector('li.interim');
    if (c.voice && e.at_ms && e.kind !== 'latency') {
      var at = document.createElement('span');
      at.className = 'at';
      at.textContent = clock(e.at_ms);
      li.appendChild(at);
    }
    var text = function (t, cls) {
      var s = document.createElement('span');
      if (cls) { s.className = cls; }
      s.textContent = t;
      li.appendChild(s);
      return s;
    };
    switch (e.kind) {
      case 'user':
        if (e.rejected) { li.classList.add('rejected'); text(e.text ? '(rejected) ' + e.text : '(not understood)'); } else { text(e.text); }
        if (e.confidence) { text(Math.round(e.confidence * 100) + '%', 'conf'); }
        break;
      case 'bot': text(e.text); break;
      case 'choice': text('▸ ' + e.text); break;
      case 'dtmf': text('keys ' + e.text.split('').join(' ')); break;
      case 'attachment': text('📎 ' + e.text); break;
      case 'barge_in':
        text('barge-in: heard ');
        text('“' + (e.heard || '') + '”', 'heard');
        if (e.cut) { text(' — cut '); text('“' + e.cut + '”', 'cut-text'); }
        var bots = ol.querySelectorAll('li.entry.bot');
        if (bots.length) { bots[bots.length - 1].classList.add('cut'); }
        break;
      case 'false_barge_in': text('speech over the prompt, too short to interrupt it'); break;
      case 'no_input': text('no input'); break;
      case 'no_match': text('no match'); break;
      case 'recorded': text('recorded ' + e.text); break;
      case 'error': text('error: ' + e.text); break;
      case 'latency': li.appendChild(waterfall(e.latency)); break;
      default: text(e.text || e.kind);
    }
    ol.insertBefore(li, interim);
  }

  function renderInterim(c) {
    var ol = $('transcript');
    var li = ol.querySelector('li.interim');
    if (!c.interim || c.ended) {
      if (li) { li.remove(); }
      return;
    }
    if (!li) {
      li = document.createElement('li');
      li.className = 'entry interim';
      li.setAttribute('data-kind', 'interim');
      ol.appendChild(li);
    }
    li.textContent = c.interim + '…';
  }

  // ---- waterfall ----

  var STAGE_INFO = {
    endpointing: 'end of speech → endpoint',
    stt: 'endpoint → STT final',
    dialog: 'transcript → reply',
    tts: 'reply → first audio',
    playout: 'first audio → first frame played',
    session: 'session time between stages'
  };

  function fmtMS(v) { return v >= 100 ? Math.round(v) + ' ms' : v.toFixed(1) + ' ms'; }

  function svgEl(name, attrs, parent) {
    var el = document.createElementNS(SVGNS, name);
    Object.keys(attrs).forEach(function (k) { el.setAttribute(k, String(attrs[k])); });
    if (parent) { parent.appendChild(el); }
    return el;
  }

  // waterfall draws a turn's stages end to end, one row each, bar widths
  // proportional to their durations on the turn's own scale.
  function waterfall(l) {
    var W = 560, labelW = 84, right = 64, rowH = 18, top = 20, axisH = 16;
    var stages = l.stages || [];
    var H = top + stages.length * rowH + axisH;
    var total = Math.max(l.total_ms, 0.001);
    var scale = (W - labelW - right) / total;
    var svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, height: H, 'class': 'waterfall', role: 'img',
      'data-turn': l.turn, 'data-total-ms': l.total_ms });
    var voiceTurn = stages.some(function (s) { return s.name !== 'dialog'; });
    var caption = 'turn ' + l.turn + ' · ' + l.input + ' · ' + fmtMS(l.total_ms) +
      (!voiceTurn ? ' in the dialog' : l.input === 'speech' ? ' from end of speech to first frame played' : ' to first frame played');
    svgEl('title', {}, svg).textContent = caption;
    var cap = svgEl('text', { x: 0, y: 13, 'class': 'caption' }, svg);
    cap.textContent = caption;
    stages.forEach(function (s, i) {
      var y = top + i * rowH;
      var name = svgEl('text', { x: labelW - 6, y: y + 12, 'text-anchor': 'end' }, svg);
      name.textContent = s.name;
      var x = labelW + s.start_ms * scale;
      var w = s.duration_ms * scale;
      var r = svgEl('rect', { x: x.toFixed(2), y: y + 3, width: w.toFixed(3), height: rowH - 6, rx: 2,
        'class': 'stage stage-' + s.name, 'data-stage': s.name, 'data-ms': s.duration_ms }, svg);
      svgEl('title', {}, r).textContent = s.name + ': ' + fmtMS(s.duration_ms) + ' (' + (STAGE_INFO[s.name] || s.name) + ')';
      var lbl = svgEl('text', { x: (x + w + 4).toFixed(2), y: y + 12, 'class': 'ms' }, svg);
      lbl.textContent = fmtMS(s.duration_ms);
    });
    var ay = top + stages.length * rowH + 2;
    svgEl('line', { x1: labelW, y1: ay, x2: W - right, y2: ay, 'class': 'axis' }, svg);
    var t0 = svgEl('text', { x: labelW, y: ay + 12, 'text-anchor': 'start' }, svg);
    t0.textContent = '0';
    var t1 = svgEl('text', { x: W - right, y: ay + 12, 'text-anchor': 'end' }, svg);
    t1.textContent = fmtMS(l.total_ms);
    return svg;
  }

  start();
})();
