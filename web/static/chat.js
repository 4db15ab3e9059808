// parole chat page: talks to the web connector (Tock's web connector wire
// format) of the server that serves it. No build step, no request to any
// other server.
(function () {
  'use strict';

  var body = document.body;
  var params = new URLSearchParams(window.location.search);
  var endpoint = params.get('endpoint') || body.getAttribute('data-endpoint') || '/io/web';

  var strings = {
    en: {
      title: 'parole chat', language: 'Language', input: 'Your message',
      placeholder: 'Type your message…', send: 'Send', waiting: 'The bot is typing…',
      offline: 'Could not reach the server: ', ended: 'The conversation has ended. Write again to start over.',
      transfer: 'Transferred to ', error: 'Something went wrong: '
    },
    fr: {
      title: 'Discussion parole', language: 'Langue', input: 'Votre message',
      placeholder: 'Écrivez votre message…', send: 'Envoyer', waiting: 'Le bot écrit…',
      offline: 'Serveur injoignable : ', ended: 'La conversation est terminée. Écrivez pour recommencer.',
      transfer: 'Transféré vers ', error: 'Une erreur est survenue : '
    }
  };

  var store = (function () {
    try {
      var k = '__parole_probe__';
      window.localStorage.setItem(k, k);
      window.localStorage.removeItem(k);
      return window.localStorage;
    } catch (e) {
      var mem = {};
      return { getItem: function (k) { return mem[k] || null; }, setItem: function (k, v) { mem[k] = String(v); } };
    }
  })();

  function newId() {
    if (window.crypto && window.crypto.randomUUID) {
      return window.crypto.randomUUID();
    }
    var a = new Uint8Array(16);
    window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return (b + 256).toString(16).slice(1); }).join('');
  }

  var userId = store.getItem('parole.chat.userId');
  if (!userId) {
    userId = newId();
    store.setItem('parole.chat.userId', userId);
  }
  var locale = params.get('locale') || store.getItem('parole.chat.locale') ||
    ((navigator.language || 'en').toLowerCase().indexOf('fr') === 0 ? 'fr' : 'en');
  if (!strings[locale]) {
    locale = 'en';
  }

  var list = document.getElementById('messages');
  var form = document.getElementById('composer');
  var input = document.getElementById('input');
  var send = document.getElementById('send');
  var select = document.getElementById('locale');
  var status = document.getElementById('status');
  var seen = {};
  var pending = 0;

  function t(key) { return strings[locale][key]; }

  function applyLocale() {
    document.documentElement.lang = locale;
    select.value = locale;
    document.getElementById('title').textContent = t('title');
    document.getElementById('locale-label').textContent = t('language');
    document.getElementById('input-label').textContent = t('input');
    input.placeholder = t('placeholder');
    send.textContent = t('send');
  }

  function setStatus(text, isError) {
    status.textContent = text || '';
    status.className = isError ? 'status error' : 'status';
  }

  function scrollDown() { list.scrollTop = list.scrollHeight; }

  function item(author, extraClass) {
    var li = document.createElement('li');
    li.className = 'msg ' + author + (extraClass ? ' ' + extraClass : '');
    li.setAttribute('data-author', author);
    list.appendChild(li);
    return li;
  }

  function note(text) {
    item('note').textContent = text;
  }

  function userMessage(text) {
    item('user').textContent = text;
    scrollDown();
  }

  // Quick replies only make sense under the latest bot message.
  function retireQuickReplies() {
    var old = list.querySelectorAll('button[data-type="quick_reply"]');
    for (var i = 0; i < old.length; i++) {
      old[i].disabled = true;
    }
  }

  function renderButtons(buttons, active) {
    var box = document.createElement('div');
    box.className = 'buttons';
    buttons.forEach(function (b) {
      var el;
      if (b.type === 'web_url' && b.url) {
        el = document.createElement('a');
        el.href = b.url;
        el.target = b.target || '_blank';
        el.rel = 'noopener noreferrer';
        el.textContent = b.title;
      } else {
        el = document.createElement('button');
        el.type = 'button';
        el.textContent = b.title;
        el.setAttribute('data-type', b.type || 'postback');
        el.setAttribute('data-payload', b.payload || b.title);
        el.disabled = !active;
        el.addEventListener('click', function () {
          if (b.type === 'quick_reply') {
            retireQuickReplies();
          }
          userMessage(b.title);
          request({ payload: b.payload || b.title });
        });
      }
      box.appendChild(el);
    });
    return box;
  }

  function renderCard(card, active) {
    var div = document.createElement('div');
    div.className = 'card';
    if (card.file && card.file.type === 'image') {
      var img = document.createElement('img');
      img.src = card.file.url;
      img.alt = card.file.description || card.title || '';
      div.appendChild(img);
    }
    var bodyDiv = document.createElement('div');
    bodyDiv.className = 'card-body';
    if (card.title) {
      var h = document.createElement('h2');
      h.textContent = card.title;
      bodyDiv.appendChild(h);
    }
    if (card.subTitle) {
      var p = document.createElement('p');
      p.textContent = card.subTitle;
      bodyDiv.appendChild(p);
    }
    if (card.file && card.file.type !== 'image') {
      var a = document.createElement('a');
      a.href = card.file.url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      a.textContent = card.file.name || card.file.url;
      bodyDiv.appendChild(a);
    }
    if (card.buttons && card.buttons.length) {
      bodyDiv.appendChild(renderButtons(card.buttons, active));
    }
    div.appendChild(bodyDiv);
    return div;
  }

  // renderMessage shows one Tock WebMessage from author ("bot" or "user").
  function renderMessage(m, author, active) {
    if (author === 'user') {
      if (m.text) {
        item('user').textContent = m.text;
      }
      return;
    }
    var li;
    if (m.text) {
      li = item('bot');
      li.textContent = m.text;
    } else {
      li = item('bot', 'rich');
    }
    if (m.card) {
      li.appendChild(renderCard(m.card, active));
    }
    if (m.carousel && m.carousel.cards) {
      var row = document.createElement('div');
      row.className = 'carousel';
      m.carousel.cards.forEach(function (c) { row.appendChild(renderCard(c, active)); });
      li.appendChild(row);
    }
    if (m.image && m.image.file) {
      var img = document.createElement('img');
      img.className = 'image';
      img.src = m.image.file.url;
      img.alt = m.image.title || m.image.file.name || '';
      li.appendChild(img);
    }
    if (m.footnotes && m.footnotes.length) {
      var ol = document.createElement('ol');
      ol.className = 'footnotes';
      m.footnotes.forEach(function (f) {
        var fli = document.createElement('li');
        if (f.url) {
          var a = document.createElement('a');
          a.href = f.url;
          a.target = '_blank';
          a.rel = 'noopener noreferrer';
          a.textContent = f.title;
          fli.appendChild(a);
        } else {
          fli.textContent = f.title;
        }
        ol.appendChild(fli);
      });
      li.appendChild(ol);
    }
    if (m.buttons && m.buttons.length) {
      li.appendChild(renderButtons(m.buttons, active));
    }
  }

  // handle shows a connector response once, whether it comes from the
  // POST answer or the event stream (same RESPONSE_ID).
  function handle(resp) {
    if (!resp) {
      return;
    }
    var meta = resp.metadata || {};
    if (resp.history) {
      resp.history.forEach(function (h) { renderMessage(h, h.author, false); });
    }
    var id = meta.RESPONSE_ID;
    if (id) {
      if (seen[id]) {
        return;
      }
      seen[id] = true;
    }
    var responses = resp.responses || [];
    if (responses.length) {
      retireQuickReplies();
    }
    responses.forEach(function (m) { renderMessage(m, 'bot', true); });
    if (meta.transfer) {
      note(t('transfer') + meta.transfer);
    }
    if (meta.end === 'true') {
      note(t('ended'));
    }
    scrollDown();
  }

  function request(fields) {
    var msg = { userId: userId, locale: locale };
    Object.keys(fields).forEach(function (k) { msg[k] = fields[k]; });
    pending++;
    setStatus(t('waiting'));
    return fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(msg)
    }).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) {
          throw new Error(j && j.error ? j.error : r.status + ' ' + r.statusText);
        }
        return j;
      });
    }).then(function (j) {
      pending--;
      setStatus('');
      handle(j);
    }).catch(function (e) {
      pending--;
      setStatus((e instanceof TypeError ? t('offline') : t('error')) + e.message, true);
    });
  }

  function openStream() {
    if (typeof EventSource === 'undefined') {
      return;
    }
    var es = new EventSource(endpoint + '/sse?userId=' + encodeURIComponent(userId));
    es.addEventListener('message', function (e) {
      try {
        handle(JSON.parse(e.data));
      } catch (err) {
        setStatus(t('error') + err.message, true);
      }
    });
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) {
      return;
    }
    input.value = '';
    userMessage(text);
    request({ query: text });
    input.focus();
  });

  select.addEventListener('change', function () {
    locale = strings[select.value] ? select.value : 'en';
    store.setItem('parole.chat.locale', locale);
    applyLocale();
  });

  applyLocale();
  openStream();
  // Opening the page fetches the history and, for a new user, the welcome.
  request({ returnsHistory: true });
  window.paroleChat = { userId: userId, endpoint: endpoint, pending: function () { return pending; } };
})();
