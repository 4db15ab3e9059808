// parole softphone: calls the bot over WebRTC. Signalling is a websocket
// (see telephony/webrtc): config → offer → answer, trickled candidates both
// ways, transcript events from the server, hangup either way. Plain
// JavaScript, no build step, no request outside the parole server.
'use strict';
(() => {
  const $ = id => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const wsPath = params.get('ws') || document.body.dataset.ws || '/webrtc/ws';
  // Levels (RMS of full scale) above which the microphone and the bot count
  // as sounding, for the meters' onset bookkeeping.
  const SPEECH = 0.02;

  // phone is the call's state, exposed as window.parolePhone for tests and
  // the curious: the peer connection, the transcript events and the
  // voice-to-voice onsets measured in the page.
  const phone = {
    ws: null, pc: null, dc: null, sender: null, stream: null, audio: null,
    callId: '', codec: '', state: 'idle', events: [], keysSent: [],
    micLevel: 0, botLevel: 0,
    lastMicSound: 0, // performance.now() of the last frame the microphone was above SPEECH
    botSilentSince: 0, // performance.now() since when the bot has been below SPEECH (0: sounding)
    onsets: [], // {at, micEnd, latency}: bot audio starting after the caller stopped
  };
  window.parolePhone = phone;

  const callBtn = $('call'), hangupBtn = $('hangup'), statusEl = $('status'), list = $('transcript');
  let pending = []; // remote candidates before the answer
  let interimEl = null;
  let meterTimer = 0;

  function status(text, cls) {
    statusEl.textContent = text;
    statusEl.className = 'status' + (cls ? ' ' + cls : '');
  }

  function line(cls, text) {
    const li = document.createElement('li');
    li.className = 'line ' + cls;
    li.textContent = text;
    list.appendChild(li);
    li.scrollIntoView({ block: 'nearest' });
    return li;
  }

  function send(m) {
    if (phone.ws && phone.ws.readyState === WebSocket.OPEN) phone.ws.send(JSON.stringify(m));
  }

  function rms(analyser, buf) {
    analyser.getFloatTimeDomainData(buf);
    let s = 0;
    for (let i = 0; i < buf.length; i++) s += buf[i] * buf[i];
    return Math.sqrt(s / buf.length);
  }

  // Meters: the microphone and the bot's audio through analyser nodes,
  // sampled every 5 ms (the window is 512 samples, about 11 ms).
  let audioCtx = null, micAnalyser = null, botAnalyser = null;
  function startMeters() {
    audioCtx = audioCtx || new AudioContext();
    if (audioCtx.state === 'suspended') audioCtx.resume();
    micAnalyser = audioCtx.createAnalyser();
    micAnalyser.fftSize = 512;
    audioCtx.createMediaStreamSource(phone.stream).connect(micAnalyser);
    const buf = new Float32Array(512);
    let shown = 0;
    meterTimer = setInterval(() => {
      const now = performance.now();
      phone.micLevel = rms(micAnalyser, buf);
      if (phone.micLevel > SPEECH) phone.lastMicSound = now;
      if (botAnalyser) {
        phone.botLevel = rms(botAnalyser, buf);
        if (phone.botLevel > SPEECH) {
          // A turn: the bot starts after a pause of its own that began
          // before the caller's last sound, and the caller is now silent.
          if (phone.botSilentSince && now - phone.botSilentSince > 300 && phone.lastMicSound &&
              phone.botSilentSince <= phone.lastMicSound && now - phone.lastMicSound > 30) {
            phone.onsets.push({ at: now, micEnd: phone.lastMicSound, latency: now - phone.lastMicSound });
          }
          phone.botSilentSince = 0;
        } else if (!phone.botSilentSince) {
          phone.botSilentSince = now;
        }
      }
      if (now - shown > 50) {
        shown = now;
        $('mic-level').value = Math.min(1, phone.micLevel * 4);
        $('bot-level').value = Math.min(1, phone.botLevel * 4);
      }
    }, 5);
  }

  function listenBot(stream) {
    phone.audio = $('remote');
    phone.audio.srcObject = stream; // Chrome plays remote WebRTC audio only through an element
    phone.audio.play().catch(() => {});
    if (!audioCtx) return;
    botAnalyser = audioCtx.createAnalyser();
    botAnalyser.fftSize = 512;
    audioCtx.createMediaStreamSource(stream).connect(botAnalyser);
    phone.botSilentSince = performance.now();
  }

  async function onConfig(m) {
    phone.callId = m.callId || '';
    const pc = new RTCPeerConnection({ iceServers: m.iceServers || [] });
    phone.pc = pc;
    for (const track of phone.stream.getAudioTracks()) {
      phone.sender = pc.addTrack(track, phone.stream);
    }
    // Keys go as RFC 4733 events when the sender can, else on this channel.
    phone.dc = pc.createDataChannel('dtmf');
    pc.onicecandidate = e => { if (e.candidate) send({ type: 'candidate', candidate: e.candidate.toJSON() }); };
    pc.ontrack = e => listenBot(e.streams[0] || new MediaStream([e.track]));
    pc.onconnectionstatechange = () => {
      phone.state = pc.connectionState;
      if (pc.connectionState === 'connected') status('In call (' + phone.codec + ')', 'live');
      if (pc.connectionState === 'failed') hangup('connection failed');
    };
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    send({ type: 'offer', sdp: pc.localDescription.sdp });
    status('Calling…');
  }

  async function onAnswer(m) {
    phone.codec = m.codec || '';
    await phone.pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
    for (const c of pending) await phone.pc.addIceCandidate(c).catch(() => {});
    pending = [];
  }

  function onTranscript(m) {
    switch (m.kind) {
      case 'interim':
        if (!interimEl) interimEl = line('caller interim', '');
        interimEl.textContent = m.text;
        break;
      case 'final':
        if (interimEl) { interimEl.remove(); interimEl = null; }
        if (m.text) line('caller' + (m.rejected ? ' interim' : ''), m.text);
        break;
      case 'reply':
        if (m.text) line('bot', m.text);
        break;
      case 'dtmf':
        line('caller', 'keys ' + m.text);
        break;
    }
  }

  async function onMessage(ev) {
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    phone.events.push(m);
    switch (m.type) {
      case 'config': await onConfig(m); break;
      case 'answer': await onAnswer(m); break;
      case 'candidate':
        if (!m.candidate) break;
        if (phone.pc && phone.pc.remoteDescription) await phone.pc.addIceCandidate(m.candidate).catch(() => {});
        else pending.push(m.candidate);
        break;
      case 'transcript': onTranscript(m); break;
      case 'event':
        if (m.kind === 'barge_in' && interimEl) interimEl.textContent = '…';
        if (m.kind === 'no_input') line('note', 'no input');
        break;
      case 'dtmf': line('note', 'bot keys ' + m.digits); break;
      case 'error': status('Error: ' + m.error, 'error'); break;
      case 'hangup': hangup(m.reason || 'the bot hung up', true); break;
    }
  }

  async function call() {
    callBtn.disabled = true;
    status('Asking for the microphone…');
    try {
      // Echo cancellation lets the caller interrupt the bot over speakers.
      // Automatic gain control is off: after a silence it pushes the first
      // words into clipping, which the recognizer then rejects.
      phone.stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: false },
      });
    } catch (e) {
      status('No microphone: ' + e.message, 'error');
      callBtn.disabled = false;
      return;
    }
    startMeters();
    list.replaceChildren();
    interimEl = null;
    phone.events = [];
    phone.onsets = [];
    phone.state = 'connecting';
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + wsPath);
    phone.ws = ws;
    ws.onmessage = e => onMessage(e).catch(err => status('Error: ' + err.message, 'error'));
    ws.onclose = () => { if (phone.ws === ws) hangup('connection closed', true); };
    ws.onerror = () => status('Signalling error', 'error');
    hangupBtn.disabled = false;
  }

  function hangup(reason, byServer) {
    if (!byServer) send({ type: 'hangup' });
    const ws = phone.ws;
    phone.ws = null;
    if (ws) ws.close();
    if (phone.pc) phone.pc.close();
    phone.pc = null;
    phone.dc = null;
    phone.sender = null;
    if (phone.stream) phone.stream.getTracks().forEach(t => t.stop());
    clearInterval(meterTimer);
    botAnalyser = null;
    phone.state = 'ended';
    $('mic-level').value = 0;
    $('bot-level').value = 0;
    callBtn.disabled = false;
    hangupBtn.disabled = true;
    status('Call ended' + (reason ? ': ' + reason : '') + '.');
  }

  function press(key) {
    const s = phone.sender;
    if (s && s.dtmf && s.dtmf.canInsertDTMF) {
      s.dtmf.insertDTMF(key, 100, 70);
    } else if (phone.dc && phone.dc.readyState === 'open') {
      phone.dc.send(key);
    } else {
      send({ type: 'dtmf', digits: key });
    }
    phone.keysSent.push(key);
  }

  callBtn.addEventListener('click', call);
  hangupBtn.addEventListener('click', () => hangup('you hung up'));
  for (const b of document.querySelectorAll('.keypad button')) {
    b.addEventListener('click', () => {
      press(b.dataset.key);
      b.classList.add('pressed');
      setTimeout(() => b.classList.remove('pressed'), 150);
    });
  }
  document.addEventListener('keydown', e => {
    if (phone.pc && /^[0-9*#]$/.test(e.key)) press(e.key);
  });
  window.addEventListener('beforeunload', () => { if (phone.ws) send({ type: 'hangup' }); });
})();
