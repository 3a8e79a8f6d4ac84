"use strict";

// The sandbox web chat. It talks only to this server's /api/ (see sandbox/server.py) and
// builds every element with textContent, so nothing a person or the bot writes becomes HTML.

const SVG = "http://www.w3.org/2000/svg";
const ICONS = {
  image: [
    ["rect", { x: 3, y: 5, width: 18, height: 14, rx: 2 }],
    ["circle", { cx: 9, cy: 10, r: 1.5 }],
    ["path", { d: "M21 16l-5-5-9 8" }],
  ],
  pin: [
    ["path", { d: "M12 21s-7-7.6-7-12a7 7 0 0 1 14 0c0 4.4-7 12-7 12z" }],
    ["circle", { cx: 12, cy: 9, r: 2.5 }],
  ],
  person: [
    ["circle", { cx: 12, cy: 8, r: 4 }],
    ["path", { d: "M4 21c0-4.4 3.6-7 8-7s8 2.6 8 7" }],
  ],
  send: [["path", { d: "M22 2L11 13" }], ["path", { d: "M22 2l-7 20-4-9-9-4z" }]],
  file: [["path", { d: "M14 3H6v18h12V7z" }], ["path", { d: "M14 3v4h4" }]],
};
const SAFE_SCHEMES = new Set(["http:", "https:", "mailto:", "tel:", "tg:"]);
// Reply-keyboard buttons that ask for things the sandbox has no picker for.
const UNSUPPORTED_REQUESTS = ["request_users", "request_chat", "request_poll", "web_app"];
const TOAST_MS = 3000;
const BOTTOM_SLACK_PX = 48;

const state = {
  config: null,
  userId: null,
  events: null,
  bubbles: new Map(), // message_id -> {json, element}
  keyboardJson: "null",
  stuckToBottom: true,
  toastTimer: null,
};

function byTestId(testId, root = document) {
  return root.querySelector(`[data-testid="${testId}"]`);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("icon");
  for (const [tag, attributes] of ICONS[name]) {
    const shape = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attributes)) shape.setAttribute(key, value);
    svg.append(shape);
  }
  return svg;
}

// --- talking to the server ---

async function api(path, options = {}) {
  const init = { method: options.method || "GET" };
  if (options.json !== undefined) {
    init.method = "POST";
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(options.json);
  } else if (options.body !== undefined) {
    init.method = "POST";
    init.body = options.body;
  }
  const response = await fetch(path, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

// Runs a person's action; a failure becomes a red toast instead of an unhandled rejection.
async function act(work) {
  try {
    return await work();
  } catch (error) {
    toast(error.message, "error");
    return null;
  }
}

function chatPath(action) {
  return `/api/chats/${state.userId}/${action}`;
}

function fileUrl(fileId) {
  return `/api/files/${encodeURIComponent(fileId)}`;
}

// --- personas ---

function findPersona(userId) {
  return state.config.personas.find((persona) => persona.id === userId);
}

function renderPersonas() {
  const nav = byTestId("persona-list");
  const newButton = byTestId("new-person");
  for (const old of nav.querySelectorAll("[data-persona-id]")) old.remove();
  for (const persona of state.config.personas) {
    const button = el("button", "persona");
    button.type = "button";
    button.dataset.testid = `persona-${persona.id}`;
    button.dataset.personaId = String(persona.id);
    button.setAttribute("aria-pressed", String(persona.id === state.userId));
    const role = `${persona.role} · ${persona.language}`;
    button.title = `${persona.name}\n${role}`;
    button.append(el("span", "persona-name", persona.name), el("span", "persona-role", role));
    button.addEventListener("click", () => choose(persona.id));
    nav.insertBefore(button, newButton);
  }
}

function choose(userId) {
  const persona = findPersona(userId);
  state.userId = userId;
  history.replaceState(null, "", `#${userId}`);
  for (const button of document.querySelectorAll("[data-persona-id]")) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.personaId) === userId));
  }
  byTestId(`persona-${userId}`).scrollIntoView({ block: "nearest", inline: "center" });
  byTestId("current-persona").textContent = `You are ${persona.name} · ${persona.role}`;
  byTestId("messages").replaceChildren();
  state.bubbles.clear();
  state.keyboardJson = "null";
  state.stuckToBottom = true;
  renderKeyboard(null);
  setComposerEnabled(true);
  listen(userId, persona);
}

function listen(userId, persona) {
  if (state.events) state.events.close();
  const events = new EventSource(`/api/chats/${userId}/events`);
  events.onmessage = (event) => {
    const view = JSON.parse(event.data);
    if (view.user_id === state.userId) renderChat(view);
  };
  events.onerror = () => {
    byTestId("current-persona").textContent = "Reconnecting to the sandbox…";
  };
  events.onopen = () => {
    byTestId("current-persona").textContent = `You are ${persona.name} · ${persona.role}`;
  };
  state.events = events;
}

// --- the chat ---

function renderChat(view) {
  const list = byTestId("messages");
  const seen = new Set();
  let previous = null;
  let grew = false;
  for (const message of view.messages) {
    seen.add(message.message_id);
    const json = JSON.stringify(message);
    let entry = state.bubbles.get(message.message_id);
    if (!entry || entry.json !== json) {
      const element = renderMessage(message);
      if (entry) entry.element.replaceWith(element);
      else grew = true;
      entry = { json, element };
      state.bubbles.set(message.message_id, entry);
    }
    const expected = previous ? previous.nextSibling : list.firstChild;
    if (entry.element !== expected) list.insertBefore(entry.element, expected);
    previous = entry.element;
  }
  for (const [messageId, entry] of state.bubbles) {
    if (!seen.has(messageId)) {
      entry.element.remove();
      state.bubbles.delete(messageId);
    }
  }
  const keyboardJson = JSON.stringify(view.reply_keyboard);
  if (keyboardJson !== state.keyboardJson) {
    state.keyboardJson = keyboardJson;
    renderKeyboard(view.reply_keyboard);
  }
  if (grew || state.stuckToBottom) scrollToBottom();
}

function scrollToBottom() {
  const list = byTestId("messages");
  list.scrollTop = list.scrollHeight;
  state.stuckToBottom = true;
}

function renderMessage(message) {
  const mine = message.from.id === state.userId;
  const wrapper = el("article", `message ${mine ? "mine" : "theirs"}`);
  wrapper.dataset.testid = "message";
  wrapper.dataset.messageId = String(message.message_id);
  wrapper.dataset.sender = mine ? "me" : "bot";
  const bubble = el("div", "bubble");
  if (message.reply_to_message) bubble.append(renderQuote(message.reply_to_message));
  bubble.append(...renderContent(message), renderMeta(message));
  wrapper.append(bubble);
  const rows = message.reply_markup && message.reply_markup.inline_keyboard;
  if (rows) wrapper.append(renderInlineKeyboard(message, rows));
  return wrapper;
}

function renderContent(message) {
  const parts = [];
  if (message.photo) parts.push(renderPhoto(message.photo));
  if (message.document) parts.push(renderDocument(message.document));
  if (message.voice) parts.push(renderVoice(message.voice));
  if (message.venue) parts.push(renderVenue(message.venue));
  else if (message.location) parts.push(renderLocation(message.location));
  if (message.contact) parts.push(renderContact(message.contact));
  if (message.text !== undefined) parts.push(renderText(message.text, message.entities));
  if (message.caption !== undefined) {
    parts.push(renderText(message.caption, message.caption_entities));
  }
  if (!parts.length) parts.push(el("div", "text muted", "(a message this chat cannot show)"));
  return parts;
}

function renderQuote(replied) {
  const quote = el("div", "quote");
  const sender = replied.from.id === state.userId ? "You" : replied.from.first_name;
  const snippet = replied.text || replied.caption || "(media)";
  quote.append(el("div", "quote-sender", sender), el("div", "quote-text", snippet));
  return quote;
}

function renderMeta(message) {
  const time = new Date(message.date * 1000).toLocaleTimeString([], {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  });
  return el("span", "meta", message.edit_date ? `edited ${time}` : time);
}

function renderPhoto(sizes) {
  const largest = sizes[sizes.length - 1];
  const link = el("a", "photo-link");
  link.href = fileUrl(largest.file_id);
  link.target = "_blank";
  link.rel = "noopener";
  const image = el("img", "photo");
  image.alt = "Photo";
  image.dataset.testid = "message-photo";
  image.src = link.href;
  image.addEventListener("load", () => {
    if (state.stuckToBottom) scrollToBottom();
  });
  image.addEventListener("error", () => {
    link.replaceWith(el("div", "card muted", "Photo (sent by URL: not stored in the sandbox)"));
  });
  link.append(image);
  return link;
}

function renderDocument(doc) {
  const link = el("a", "card document");
  link.href = fileUrl(doc.file_id);
  link.download = doc.file_name || "file";
  link.dataset.testid = "message-document";
  const details = el("span", "card-lines");
  details.append(el("strong", "", doc.file_name || "File"), el("span", "muted", formatSize(doc)));
  link.append(icon("file"), details);
  return link;
}

function formatSize(doc) {
  if (doc.file_size === undefined) return doc.mime_type || "";
  const kib = doc.file_size / 1024;
  const size = kib < 1 ? `${doc.file_size} B` : `${kib.toFixed(1)} KiB`;
  return doc.mime_type ? `${size} · ${doc.mime_type}` : size;
}

function renderVoice(voice) {
  const audio = el("audio", "voice");
  audio.controls = true;
  audio.preload = "none";
  audio.src = fileUrl(voice.file_id);
  return audio;
}

function renderVenue(venue) {
  return card("pin", "message-venue", [
    el("strong", "", venue.title),
    el("span", "", venue.address),
    el("span", "muted", formatPoint(venue.location)),
  ]);
}

function renderLocation(location) {
  return card("pin", "message-location", [
    el("strong", "", "Location"),
    el("span", "muted", formatPoint(location)),
  ]);
}

function renderContact(contact) {
  const name = [contact.first_name, contact.last_name].filter(Boolean).join(" ");
  return card("person", "message-contact", [
    el("strong", "", name),
    el("span", "", contact.phone_number),
  ]);
}

function card(iconName, testId, lines) {
  const node = el("div", "card");
  node.dataset.testid = testId;
  const details = el("span", "card-lines");
  details.append(...lines);
  node.append(icon(iconName), details);
  return node;
}

function formatPoint(location) {
  return `${location.latitude.toFixed(5)}, ${location.longitude.toFixed(5)}`;
}

// --- text with Telegram's entities ---

function renderText(text, entities) {
  const node = el("div", "text");
  node.dataset.testid = "message-text";
  node.append(formatEntities(text, entities || []));
  return node;
}

function formatEntities(text, entities) {
  const sorted = [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
  const fragment = document.createDocumentFragment();
  appendRange(fragment, text, 0, text.length, sorted);
  return fragment;
}

// Entity offsets count UTF-16 code units, which is how JavaScript indexes strings. Each entity
// takes the entities that start inside it as children; one that overlaps its parent's end
// (Telegram never sends that) is cut at the parent's end.
function appendRange(parent, text, start, end, entities) {
  let position = start;
  let index = 0;
  while (index < entities.length) {
    const entity = entities[index];
    const entityEnd = entity.offset + entity.length;
    let next = index + 1;
    while (next < entities.length && entities[next].offset < entityEnd) next += 1;
    const from = Math.max(entity.offset, position);
    const to = Math.min(entityEnd, end);
    if (to > from) {
      parent.append(text.slice(position, from));
      const node = entityElement(entity, text.slice(entity.offset, entityEnd));
      appendRange(node, text, from, to, entities.slice(index + 1, next));
      parent.append(node);
      position = to;
    }
    index = next;
  }
  parent.append(text.slice(position, end));
}

function entityElement(entity, text) {
  switch (entity.type) {
    case "bold":
      return el("strong");
    case "italic":
      return el("em");
    case "underline":
      return el("u");
    case "strikethrough":
      return el("s");
    case "code":
      return el("code");
    case "pre":
      return el("pre");
    case "blockquote":
    case "expandable_blockquote":
      return el("blockquote");
    case "spoiler":
      return spoiler();
    case "text_link":
      return safeLink(entity.url);
    case "url":
      return safeLink(/^[a-z][a-z0-9+.-]*:/i.test(text) ? text : `http://${text}`);
    case "email":
      return safeLink(`mailto:${text}`);
    case "phone_number":
      return safeLink(`tel:${text}`);
    case "bot_command":
      return commandLink(text);
    default:
      return el("span", `entity-${entity.type}`);
  }
}

function spoiler() {
  const node = el("span", "spoiler");
  node.title = "Spoiler: click to show";
  node.addEventListener("click", () => node.classList.add("revealed"));
  return node;
}

function safeLink(url) {
  let parsed = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (!parsed || !SAFE_SCHEMES.has(parsed.protocol)) return el("span", "unsafe-link");
  const link = el("a");
  link.href = parsed.href;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  return link;
}

// As in Telegram's apps, tapping a /command in the bot's text sends it.
function commandLink(command) {
  const node = el("button", "command");
  node.type = "button";
  node.addEventListener("click", () => sendText(command));
  return node;
}

// --- keyboards ---

function renderInlineKeyboard(message, rows) {
  const keyboard = el("div", "inline-keyboard");
  for (const row of rows) {
    const line = el("div", "keyboard-row");
    for (const button of row) line.append(inlineButton(message, button));
    keyboard.append(line);
  }
  return keyboard;
}

function inlineButton(message, button) {
  if (button.url) {
    const link = safeLink(button.url);
    link.classList.add("inline-button");
    link.dataset.testid = "inline-button";
    link.textContent = button.text;
    return link;
  }
  const node = el("button", "inline-button", button.text);
  node.type = "button";
  node.dataset.testid = "inline-button";
  if (button.callback_data === undefined) {
    node.disabled = true;
    node.title = "This kind of button does nothing in the sandbox";
  } else {
    node.dataset.callbackData = button.callback_data;
    node.addEventListener("click", () => press(message.message_id, button.callback_data, node));
  }
  return node;
}

async function press(messageId, callbackData, node) {
  node.classList.add("pending");
  const result = await act(() =>
    api(chatPath("press"), { json: { message_id: messageId, callback_data: callbackData } }),
  );
  node.classList.remove("pending");
  const answer = result && result.answer;
  if (answer && answer.text) toast(answer.text, answer.show_alert ? "alert" : "");
}

function renderKeyboard(markup) {
  const box = byTestId("reply-keyboard");
  box.replaceChildren();
  box.hidden = !markup;
  byTestId("text-input").placeholder = (markup && markup.input_field_placeholder) || "Message";
  if (!markup) return;
  for (const row of markup.keyboard) {
    const line = el("div", "keyboard-row");
    for (const raw of row) line.append(replyButton(typeof raw === "string" ? { text: raw } : raw));
    box.append(line);
  }
}

function replyButton(button) {
  const node = el("button", "reply-button", button.text);
  node.type = "button";
  node.dataset.testid = "reply-button";
  if (button.request_location) {
    node.prepend(icon("pin"));
    node.addEventListener("click", openLocationPicker);
  } else if (button.request_contact) {
    node.prepend(icon("person"));
    node.addEventListener("click", shareContact);
  } else if (UNSUPPORTED_REQUESTS.some((key) => key in button)) {
    node.disabled = true;
    node.title = "This kind of button does nothing in the sandbox";
  } else {
    node.addEventListener("click", () => sendText(button.text));
  }
  return node;
}

// --- what a person sends ---

async function sendText(text) {
  return act(() => api(chatPath("text"), { json: { text } }));
}

async function submitText(event) {
  event.preventDefault();
  const input = byTestId("text-input");
  const text = input.value;
  if (!text.trim()) return;
  input.value = "";
  fitTextInput();
  if (!(await sendText(text))) input.value = text;
}

async function shareLocation(latitude, longitude) {
  return act(() => api(chatPath("location"), { json: { latitude, longitude } }));
}

async function shareContact() {
  return act(() => api(chatPath("contact"), { json: {} }));
}

async function sendPhoto() {
  const input = byTestId("photo-input");
  const file = input.files[0];
  if (!file) return;
  const textInput = byTestId("text-input");
  const caption = textInput.value.trim();
  const form = new FormData();
  form.append("photo", file, file.name);
  if (caption) form.append("caption", caption);
  const sent = await act(() => api(chatPath("photo"), { body: form }));
  input.value = "";
  if (sent && caption) textInput.value = "";
}

function fitTextInput() {
  const input = byTestId("text-input");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}

function setComposerEnabled(enabled) {
  for (const control of byTestId("composer").querySelectorAll("input, textarea, button")) {
    control.disabled = !enabled;
  }
}

// --- dialogs and the toast ---

function renderPlaces() {
  const list = byTestId("place-list");
  list.replaceChildren();
  for (const place of state.config.places) {
    const button = el("button", "place");
    button.type = "button";
    button.dataset.testid = "place";
    button.append(icon("pin"), el("span", "place-name", place.name));
    button.addEventListener("click", async () => {
      byTestId("location-picker").close();
      await shareLocation(place.lat, place.lon);
    });
    list.append(button);
  }
}

function openLocationPicker() {
  byTestId("location-input").value = "";
  byTestId("location-error").hidden = true;
  byTestId("location-picker").showModal();
}

function parsePoint(text) {
  const match = /^\s*(-?\d+(?:\.\d+)?)\s*[,\s]\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text);
  if (!match) return null;
  const [latitude, longitude] = [Number(match[1]), Number(match[2])];
  if (Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return null;
  return { latitude, longitude };
}

async function submitTypedLocation(event) {
  event.preventDefault();
  const point = parsePoint(byTestId("location-input").value);
  if (!point) {
    showError("location-error", "Type it as latitude, longitude, for example 31.2304, 121.4737");
    return;
  }
  byTestId("location-picker").close();
  await shareLocation(point.latitude, point.longitude);
}

function openNewPerson() {
  byTestId("new-person-name").value = "";
  byTestId("new-person-error").hidden = true;
  byTestId("new-person-dialog").showModal();
}

async function submitNewPerson(event) {
  event.preventDefault();
  const name = byTestId("new-person-name").value.trim();
  const language = byTestId("new-person-language").value;
  try {
    const persona = await api("/api/people", { json: { name, language } });
    state.config.personas.push(persona);
    renderPersonas();
    byTestId("new-person-dialog").close();
    choose(persona.id);
  } catch (error) {
    showError("new-person-error", error.message);
  }
}

function showError(testId, text) {
  const node = byTestId(testId);
  node.textContent = text;
  node.hidden = false;
}

function toast(text, kind = "") {
  const node = byTestId("toast");
  node.textContent = text;
  node.className = `toast ${kind}`.trim();
  node.hidden = false;
  clearTimeout(state.toastTimer);
  // Telegram keeps a show_alert answer up until it is dismissed.
  if (kind !== "alert") state.toastTimer = setTimeout(() => (node.hidden = true), TOAST_MS);
}

// --- start ---

function bindControls() {
  for (const slot of document.querySelectorAll("[data-icon]")) {
    slot.replaceWith(icon(slot.dataset.icon));
  }
  byTestId("composer").addEventListener("submit", submitText);
  const input = byTestId("text-input");
  input.addEventListener("input", fitTextInput);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      byTestId("composer").requestSubmit();
    }
  });
  byTestId("photo-input").addEventListener("change", sendPhoto);
  byTestId("location-button").addEventListener("click", openLocationPicker);
  byTestId("contact-button").addEventListener("click", shareContact);
  byTestId("location-form").addEventListener("submit", submitTypedLocation);
  byTestId("location-cancel").addEventListener("click", () => byTestId("location-picker").close());
  byTestId("new-person").addEventListener("click", openNewPerson);
  byTestId("new-person-form").addEventListener("submit", submitNewPerson);
  byTestId("new-person-cancel").addEventListener("click", () => {
    byTestId("new-person-dialog").close();
  });
  byTestId("toast").addEventListener("click", () => (byTestId("toast").hidden = true));
  // A narrower window rewraps the bubbles; whoever was reading the newest keeps reading it.
  window.addEventListener("resize", () => {
    if (state.stuckToBottom) scrollToBottom();
  });
  byTestId("messages").addEventListener("scroll", () => {
    const list = byTestId("messages");
    state.stuckToBottom = list.scrollHeight - list.scrollTop - list.clientHeight < BOTTOM_SLACK_PX;
  });
}

async function boot() {
  bindControls();
  setComposerEnabled(false);
  state.config = await act(() => api("/api/config"));
  if (!state.config) return;
  byTestId("bot-name").textContent = state.config.bot.first_name;
  byTestId("bot-avatar").textContent = state.config.bot.first_name.slice(0, 1);
  renderPersonas();
  renderPlaces();
  const wanted = findPersona(Number(location.hash.slice(1))) || state.config.personas[0];
  if (wanted) choose(wanted.id);
}

boot();
