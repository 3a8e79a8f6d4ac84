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
  clip: [["path", { d: "M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7" }]],
  mic: [
    ["rect", { x: 9, y: 3, width: 6, height: 11, rx: 3 }],
    ["path", { d: "M5 11a7 7 0 0 0 14 0" }],
    ["path", { d: "M12 18v3" }],
  ],
  audio: [["path", { d: "M9 18V5l12-2v13" }], ["circle", { cx: 6, cy: 18, r: 3 }], ["circle", { cx: 18, cy: 16, r: 3 }]],
};
const SAFE_SCHEMES = new Set(["http:", "https:", "mailto:", "tel:", "tg:"]);
// Reply-keyboard buttons that ask for things the sandbox has no picker for.
const UNSUPPORTED_REQUESTS = ["request_users", "request_chat", "request_poll", "web_app"];
const TOAST_MS = 3000;
const BOTTOM_SLACK_PX = 48;
// A /command in the bot's words, as Telegram's apps find it: a slash that starts a word, then
// Latin letters, digits and underscores, optionally @the_bot.
const COMMAND = /(?<![\p{L}\p{N}_/\\.:@-])\/[A-Za-z][A-Za-z0-9_]{0,31}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_/])/gu;
// Entities whose text is not scanned for /commands.
const NO_COMMANDS = new Set(["code", "pre", "text_link", "url", "email", "phone_number", "bot_command"]);
// The entities that are one plain element: Telegram's type, the tag that shows it.
const ENTITY_TAGS = {
  bold: "strong",
  italic: "em",
  underline: "u",
  strikethrough: "s",
  code: "code",
  pre: "pre",
  blockquote: "blockquote",
  expandable_blockquote: "blockquote",
};
// What Telegram's own app says around the chat, in the reader's language.
const WORDS = {
  en: {
    locale: "en-GB",
    start: "START",
    empty: "No messages here yet. Tap START to talk to the bot.",
    message: "Message",
    edited: "edited",
    all: "All",
    topicOpened: "Topic opened",
    topicRenamed: "Topic renamed",
    youAre: (name, role) => `You are ${name} · ${role}`,
    group: "Group",
    forumGroup: "Group with topics",
    actingAs: "Acting as",
  },
  zh: {
    locale: "zh-CN",
    start: "开始",
    empty: "还没有消息。点“开始”与机器人对话。",
    message: "消息",
    edited: "已编辑",
    all: "全部",
    topicOpened: "话题已创建",
    topicRenamed: "话题已更名",
    youAre: (name, role) => `当前身份：${name} · ${role}`,
    group: "群组",
    forumGroup: "带话题的群组",
    actingAs: "发言成员",
  },
};

const state = {
  config: null,
  userId: null,
  words: WORDS.en,
  clock: null, // formatters for the district's time in the reader's language
  events: null,
  units: new Map(), // key -> {json, element}: day lines, single messages and albums
  keyboardJson: "null",
  empty: null,
  stuckToBottom: true,
  toastTimer: null,
  recording: null,
  pressing: 0, // presses still waiting for the bot's answer
  // A unit's work group (handlers/desk.py) open instead of a private chat: which, who acts in it,
  // which of its topics is shown (null: all), and its latest view.
  groupId: null,
  actorId: null,
  topic: null,
  groupView: null,
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

// Who writes and presses now: the person, or in a group the member chosen to act.
function actor() {
  return state.groupId === null ? state.userId : state.actorId;
}

// A text or a press: in a group, posted as the chosen member.
function chatPost(action, json) {
  if (state.groupId === null) return api(chatPath(action), { json });
  return api(`/api/groups/${state.groupId}/${action}`, { json: { ...json, as: state.actorId } });
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
  for (const group of state.config.groups || []) {
    const button = el("button", "persona group");
    button.type = "button";
    button.dataset.testid = `group-${Math.abs(group.id)}`;
    button.dataset.groupId = String(group.id);
    button.setAttribute("aria-pressed", String(group.id === state.groupId));
    const kind = group.forum ? "Group · topics" : "Group";
    button.title = `${group.title}\n${kind}`;
    button.append(el("span", "persona-name", group.title), el("span", "persona-role", kind));
    button.addEventListener("click", () => chooseGroup(group.id));
    nav.insertBefore(button, newButton);
  }
}

function markChosen() {
  for (const button of document.querySelectorAll("[data-persona-id]")) {
    const chosen = state.groupId === null && Number(button.dataset.personaId) === state.userId;
    button.setAttribute("aria-pressed", String(chosen));
  }
  for (const button of document.querySelectorAll("[data-group-id]")) {
    button.setAttribute("aria-pressed", String(Number(button.dataset.groupId) === state.groupId));
  }
}

function clearChat() {
  cancelRecording();
  hideToast();
  byTestId("messages").replaceChildren();
  state.units.clear();
  state.keyboardJson = "null";
  state.empty = null;
  state.stuckToBottom = true;
  renderKeyboard(null);
}

// A unit's work group: its topics (each appeal's), its messages, and a member to act as.
function chooseGroup(groupId) {
  const group = state.config.groups.find((g) => g.id === groupId);
  clearChat();
  state.groupId = groupId;
  state.topic = null;
  state.groupView = null;
  // The unit's worker acts by default (the last member listed; the coordinator links it).
  state.actorId = group.members[group.members.length - 1];
  const persona = findPersona(state.actorId);
  state.words = WORDS[(persona && persona.language) || "en"] || WORDS.en;
  state.clock = districtClock(state.words.locale, state.config.timezone);
  history.replaceState(null, "", `#${groupId}`);
  markChosen();
  byTestId(`group-${Math.abs(groupId)}`).scrollIntoView({ block: "nearest", inline: "center" });
  byTestId("bot-name").textContent = group.title;
  byTestId("bot-avatar").textContent = group.title.slice(0, 1);
  byTestId("current-persona").textContent = group.forum ? state.words.forumGroup : state.words.group;
  byTestId("acting-as").textContent = state.words.actingAs;
  const select = byTestId("group-member");
  select.replaceChildren();
  for (const member of group.members) {
    const who = findPersona(member);
    const option = el("option", "", who ? who.name : String(member));
    option.value = String(member);
    option.selected = member === state.actorId;
    select.append(option);
  }
  byTestId("group-bar").hidden = false;
  byTestId("attach-button").hidden = true;
  setComposerEnabled(true);
  listenTo(`/api/groups/${groupId}/events`, (view) => {
    if (view.group_id === state.groupId) renderGroup(view);
  });
}

function renderGroup(view) {
  state.groupView = view;
  const names = new Map(view.topics.map((topic) => [topic.message_thread_id, topic.name]));
  if (state.topic !== null && !names.has(state.topic)) state.topic = null;
  const list = byTestId("topic-list");
  list.hidden = !view.is_forum;
  list.replaceChildren(topicChip(null, state.words.all, view.messages.length));
  for (const topic of view.topics) {
    const count = view.messages.filter((m) => m.message_thread_id === topic.message_thread_id).length;
    list.append(topicChip(topic.message_thread_id, topic.name, count));
  }
  const shown = view.messages
    .filter((m) => state.topic === null || m.message_thread_id === state.topic)
    .map((m) => (m.message_thread_id ? { ...m, topic_name: names.get(m.message_thread_id) || "" } : m));
  renderChat({ messages: shown, reply_keyboard: null });
}

function topicChip(threadId, name, count) {
  const chip = el("button", "topic-chip", `${name} (${count})`);
  chip.type = "button";
  chip.dataset.testid = "topic";
  chip.setAttribute("aria-pressed", String(threadId === state.topic));
  chip.addEventListener("click", () => {
    state.topic = threadId;
    clearChat();
    if (state.groupView) renderGroup(state.groupView);
  });
  return chip;
}

function choose(userId) {
  const persona = findPersona(userId);
  cancelRecording();
  // A toast or an alert answered one persona's press; the next persona never saw it.
  hideToast();
  state.groupId = null;
  byTestId("group-bar").hidden = true;
  byTestId("attach-button").hidden = false;
  byTestId("bot-name").textContent = state.config.bot.first_name;
  byTestId("bot-avatar").textContent = state.config.bot.first_name.slice(0, 1);
  state.userId = userId;
  state.words = WORDS[persona.language] || WORDS.en;
  state.clock = districtClock(state.words.locale, state.config.timezone);
  document.documentElement.lang = state.words.locale;
  history.replaceState(null, "", `#${userId}`);
  markChosen();
  byTestId(`persona-${userId}`).scrollIntoView({ block: "nearest", inline: "center" });
  byTestId("current-persona").textContent = state.words.youAre(persona.name, persona.role);
  byTestId("messages").replaceChildren();
  byTestId("start-button").textContent = state.words.start;
  state.units.clear();
  state.keyboardJson = "null";
  state.empty = null;
  state.stuckToBottom = true;
  renderKeyboard(null);
  setComposerEnabled(true);
  listen(userId, persona);
}

function listen(userId, persona) {
  const events = listenTo(`/api/chats/${userId}/events`, (view) => {
    if (view.user_id === state.userId && state.groupId === null) renderChat(view);
  });
  events.onopen = () => {
    byTestId("current-persona").textContent = state.words.youAre(persona.name, persona.role);
  };
}

function listenTo(path, render) {
  if (state.events) state.events.close();
  const events = new EventSource(path);
  events.onmessage = (event) => render(JSON.parse(event.data));
  events.onerror = () => {
    byTestId("current-persona").textContent = "Reconnecting to the sandbox…";
  };
  state.events = events;
  return events;
}

// --- the chat ---

function renderChat(view) {
  const list = byTestId("messages");
  const seen = new Set();
  let previous = null;
  let grew = false;
  for (const unit of chatUnits(view.messages)) {
    seen.add(unit.key);
    const json = JSON.stringify(unit.content);
    let entry = state.units.get(unit.key);
    if (!entry || entry.json !== json) {
      const element = unit.render(unit.content);
      if (entry) entry.element.replaceWith(element);
      else grew = true;
      entry = { json, element };
      state.units.set(unit.key, entry);
    }
    const expected = previous ? previous.nextSibling : list.firstChild;
    if (entry.element !== expected) list.insertBefore(entry.element, expected);
    previous = entry.element;
  }
  for (const [key, entry] of state.units) {
    if (!seen.has(key)) {
      entry.element.remove();
      state.units.delete(key);
    }
  }
  showStart(view.messages.length === 0 && state.groupId === null);
  const keyboardJson = JSON.stringify(view.reply_keyboard);
  if (keyboardJson !== state.keyboardJson) {
    state.keyboardJson = keyboardJson;
    renderKeyboard(view.reply_keyboard);
  }
  if (grew || state.stuckToBottom) scrollToBottom();
}

// The chat as it is drawn: a line for each day in the district's time, albums (consecutive
// messages from one sender sharing a media_group_id) as one bubble, and every other message alone.
function chatUnits(messages) {
  const units = [];
  let day = null;
  for (let index = 0; index < messages.length; index += 1) {
    const message = messages[index];
    const label = state.clock.day(message.date);
    if (label !== day) {
      day = label;
      units.push({ key: `day:${label}`, content: label, render: renderDay });
    }
    const topic = message.forum_topic_created || message.forum_topic_edited;
    if (topic) {
      const said = message.forum_topic_created ? state.words.topicOpened : state.words.topicRenamed;
      units.push({ key: `topic:${message.message_id}`, content: `${said}: ${topic.name}`, render: renderDay });
      continue;
    }
    const group = [message];
    while (
      message.media_group_id !== undefined &&
      index + 1 < messages.length &&
      messages[index + 1].media_group_id === message.media_group_id &&
      messages[index + 1].from.id === message.from.id
    ) {
      index += 1;
      group.push(messages[index]);
    }
    if (group.length > 1) {
      units.push({ key: `album:${message.message_id}`, content: group, render: renderAlbum });
    } else {
      units.push({ key: `message:${message.message_id}`, content: message, render: renderMessage });
    }
  }
  return units;
}

// A person who has never written to the bot sees START where the composer will be, as in Telegram.
function showStart(empty) {
  if (empty === state.empty) return;
  state.empty = empty;
  byTestId("start-bar").hidden = !empty;
  byTestId("composer").hidden = empty;
  if (empty) {
    const hint = el("p", "empty-chat", state.words.empty);
    hint.dataset.testid = "empty-chat";
    byTestId("messages").append(hint);
  } else {
    const hint = byTestId("empty-chat");
    if (hint) hint.remove();
  }
}

function renderDay(label) {
  const line = el("div", "day", label);
  line.dataset.testid = "day";
  return line;
}

function scrollToBottom() {
  const list = byTestId("messages");
  list.scrollTop = list.scrollHeight;
  state.stuckToBottom = true;
}

function messageFrame(message) {
  const mine = message.from.id === actor();
  const wrapper = el("article", `message ${mine ? "mine" : "theirs"}`);
  wrapper.dataset.testid = "message";
  wrapper.dataset.messageId = String(message.message_id);
  wrapper.dataset.sender = mine ? "me" : "bot";
  return wrapper;
}

function renderMessage(message) {
  const wrapper = messageFrame(message);
  const bubble = el("div", "bubble");
  if (message.topic_name) {
    const tag = el("div", "topic-tag", `# ${message.topic_name}`);
    tag.dataset.testid = "topic-tag";
    bubble.append(tag);
  }
  if (state.groupId !== null && !message.from.is_bot && message.from.id !== actor()) {
    bubble.append(el("div", "sender", message.from.first_name));
  }
  if (message.reply_to_message) bubble.append(renderQuote(message.reply_to_message));
  bubble.append(...renderContent(message), renderMeta(message));
  wrapper.append(bubble);
  const rows = message.reply_markup && message.reply_markup.inline_keyboard;
  if (rows) wrapper.append(renderInlineKeyboard(message, rows));
  return wrapper;
}

// One bubble for an album: its photos in a grid, then its files and voice notes, then the captions.
function renderAlbum(messages) {
  const first = messages[0];
  const wrapper = messageFrame(first);
  wrapper.classList.add("album");
  wrapper.dataset.albumSize = String(messages.length);
  const bubble = el("div", "bubble");
  if (first.reply_to_message) bubble.append(renderQuote(first.reply_to_message));
  const photos = messages.filter((message) => message.photo);
  if (photos.length) {
    const grid = el("div", `album-grid${photos.length === 1 ? " single" : ""}`);
    grid.dataset.testid = "album-grid";
    for (const message of photos) grid.append(renderPhoto(message.photo));
    bubble.append(grid);
  }
  for (const message of messages) {
    if (message.document) bubble.append(renderDocument(message.document));
    if (message.voice) bubble.append(renderVoice(message.voice));
  }
  for (const message of messages) {
    if (message.caption !== undefined) {
      bubble.append(renderText(message.caption, message.caption_entities));
    }
  }
  bubble.append(renderMeta(messages[messages.length - 1]));
  wrapper.append(bubble);
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
  const sender = replied.from.id === actor() ? "You" : replied.from.first_name;
  const snippet = replied.text || replied.caption || "(media)";
  quote.append(el("div", "quote-sender", sender), el("div", "quote-text", snippet));
  return quote;
}

function renderMeta(message) {
  const time = state.clock.time(message.date);
  const meta = el("span", "meta", message.edit_date ? `${state.words.edited} ${time}` : time);
  meta.dataset.testid = "message-time";
  meta.title = state.clock.full(message.edit_date || message.date);
  return meta;
}

// Times in the district's time zone (the bot's deadlines are in it too), in the reader's words:
// 18:00; a day line 12月7日 周一 or Mon 7 Dec.
function districtClock(locale, timeZone) {
  const zone = timeZone ? { timeZone } : {};
  const time = new Intl.DateTimeFormat(locale, { ...zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const dayParts = new Intl.DateTimeFormat(locale, { ...zone, month: "numeric", day: "numeric", weekday: "short" });
  const english = new Intl.DateTimeFormat(locale, { ...zone, weekday: "short", day: "numeric", month: "short" });
  const zh = locale.startsWith("zh");
  const day = (seconds) => {
    const date = new Date(seconds * 1000);
    if (!zh) return english.format(date);
    const part = Object.fromEntries(dayParts.formatToParts(date).map((p) => [p.type, p.value]));
    return `${part.month}月${part.day}日 ${part.weekday}`;
  };
  return {
    time: (seconds) => time.format(new Date(seconds * 1000)),
    day,
    full: (seconds) => `${day(seconds)} ${time.format(new Date(seconds * 1000))} (${timeZone || "local"})`,
  };
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
  const note = el("div", "voice-note");
  note.dataset.testid = "message-voice";
  const audio = el("audio", "voice");
  audio.controls = true;
  audio.preload = "none";
  audio.src = fileUrl(voice.file_id);
  note.append(audio, el("span", "muted voice-length", formatDuration(voice.duration || 0)));
  return note;
}

function formatDuration(seconds) {
  const whole = Math.max(0, Math.round(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
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
  appendRange(fragment, text, 0, text.length, sorted, true);
  return fragment;
}

// Plain text, with each /command in it made tappable when `commands` is on.
function appendPlain(parent, text, commands) {
  if (!commands) {
    parent.append(text);
    return;
  }
  let position = 0;
  for (const match of text.matchAll(COMMAND)) {
    parent.append(text.slice(position, match.index));
    const node = commandLink(match[0]);
    node.textContent = match[0];
    parent.append(node);
    position = match.index + match[0].length;
  }
  parent.append(text.slice(position));
}

// Entity offsets count UTF-16 code units, which is how JavaScript indexes strings. Each entity
// takes the entities that start inside it as children; one that overlaps its parent's end
// (Telegram never sends that) is cut at the parent's end.
function appendRange(parent, text, start, end, entities, commands) {
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
      appendPlain(parent, text.slice(position, from), commands);
      const node = entityElement(entity, text.slice(entity.offset, entityEnd));
      const inner = commands && !NO_COMMANDS.has(entity.type);
      appendRange(node, text, from, to, entities.slice(index + 1, next), inner);
      parent.append(node);
      position = to;
    }
    index = next;
  }
  appendPlain(parent, text.slice(position, end), commands);
}

function entityElement(entity, text) {
  if (Object.hasOwn(ENTITY_TAGS, entity.type)) return el(ENTITY_TAGS[entity.type]);
  switch (entity.type) {
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
  node.dataset.testid = "command";
  node.title = `Send ${command}`;
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
  const presser = `${state.groupId}:${actor()}`;
  node.classList.add("pending");
  state.pressing += 1;
  document.body.setAttribute("aria-busy", "true");
  const result = await act(() => chatPost("press", { message_id: messageId, callback_data: callbackData }));
  state.pressing -= 1;
  document.body.setAttribute("aria-busy", String(state.pressing > 0));
  node.classList.remove("pending");
  const answer = result && result.answer;
  // The answer belongs to whoever pressed: if the page has become someone else, it is dropped.
  if (answer && answer.text && `${state.groupId}:${actor()}` === presser) {
    toast(answer.text, answer.show_alert ? "alert" : "");
  }
}

function renderKeyboard(markup) {
  const box = byTestId("reply-keyboard");
  box.replaceChildren();
  box.hidden = !markup;
  byTestId("text-input").placeholder =
    (markup && markup.input_field_placeholder) || state.words.message;
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
  return act(() => chatPost("text", { text }));
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

// A photo or a document from its picker; the composer's text goes with it as the caption.
async function sendFile(kind) {
  const input = byTestId(`${kind}-input`);
  const file = input.files[0];
  if (!file) return;
  const textInput = byTestId("text-input");
  const caption = textInput.value.trim();
  const form = new FormData();
  form.append(kind, file, file.name);
  if (caption) form.append("caption", caption);
  const sent = await act(() => api(chatPath(kind), { body: form }));
  input.value = "";
  if (sent && caption) {
    textInput.value = "";
    fitTextInput();
  }
}

async function sendVoice(blob, name, seconds) {
  const form = new FormData();
  form.append("voice", blob, name);
  form.append("duration", String(Math.max(1, Math.round(seconds || 0))));
  return act(() => api(chatPath("voice"), { body: form }));
}

// A chosen audio file goes as a voice note; its length is read from the file where it can be.
async function sendVoiceFile() {
  const input = byTestId("voice-input");
  const file = input.files[0];
  if (!file) return;
  input.value = "";
  await sendVoice(file, file.name, await audioSeconds(file));
}

function audioSeconds(file) {
  return new Promise((resolve) => {
    const audio = new Audio();
    const url = URL.createObjectURL(file);
    const done = (seconds) => {
      URL.revokeObjectURL(url);
      resolve(Number.isFinite(seconds) ? seconds : 0);
    };
    audio.preload = "metadata";
    audio.addEventListener("loadedmetadata", () => done(audio.duration));
    audio.addEventListener("error", () => done(0));
    audio.src = url;
  });
}

// --- a recorded voice note (MediaRecorder where the browser has it) ---

function canRecord() {
  return Boolean(window.MediaRecorder && navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
}

async function startRecording() {
  let stream = null;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    toast(`No microphone here (${error.name}): choose an audio file under the clip instead.`, "error");
    return;
  }
  const recorder = new MediaRecorder(stream);
  const chunks = [];
  const recording = { recorder, stream, chunks, started: performance.now(), send: false, owner: state.userId };
  recorder.addEventListener("dataavailable", (event) => chunks.push(event.data));
  recorder.addEventListener("stop", async () => {
    for (const track of stream.getTracks()) track.stop();
    clearInterval(recording.timer);
    showRecording(false);
    if (!recording.send || recording.owner !== state.userId) return;
    const type = recorder.mimeType || "audio/webm";
    const seconds = (performance.now() - recording.started) / 1000;
    await sendVoice(new Blob(chunks, { type }), "voice.ogg", seconds);
  });
  recording.timer = setInterval(() => {
    byTestId("recording-time").textContent = formatDuration((performance.now() - recording.started) / 1000);
  }, 250);
  state.recording = recording;
  recorder.start();
  byTestId("recording-time").textContent = "0:00";
  showRecording(true);
}

function stopRecording(send) {
  const recording = state.recording;
  if (!recording) return;
  state.recording = null;
  recording.send = send;
  if (recording.recorder.state !== "inactive") recording.recorder.stop();
}

function cancelRecording() {
  stopRecording(false);
}

function showRecording(on) {
  byTestId("recording-bar").hidden = !on;
  byTestId("composer").hidden = on || state.empty === true;
}

function fitTextInput() {
  const input = byTestId("text-input");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  // As in Telegram: the microphone while there is nothing typed, the send arrow once there is.
  const typed = input.value.trim() !== "";
  byTestId("record-button").hidden = typed || !canRecord();
  byTestId("send-button").hidden = !typed && canRecord();
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

function openAttach() {
  byTestId("attach-sheet").showModal();
}

// Each choice in the clip's sheet closes it, then does what it says.
function attachChoice(testId, work) {
  byTestId(testId).addEventListener("click", () => {
    byTestId("attach-sheet").close();
    work();
  });
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
  if (kind !== "alert") state.toastTimer = setTimeout(hideToast, TOAST_MS);
}

function hideToast() {
  clearTimeout(state.toastTimer);
  byTestId("toast").hidden = true;
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
  byTestId("photo-input").addEventListener("change", () => sendFile("photo"));
  byTestId("document-input").addEventListener("change", () => sendFile("document"));
  byTestId("voice-input").addEventListener("change", sendVoiceFile);
  byTestId("attach-button").addEventListener("click", openAttach);
  attachChoice("photo-button", () => byTestId("photo-input").click());
  attachChoice("document-button", () => byTestId("document-input").click());
  attachChoice("voice-file-button", () => byTestId("voice-input").click());
  attachChoice("location-button", openLocationPicker);
  attachChoice("contact-button", shareContact);
  byTestId("attach-cancel").addEventListener("click", () => byTestId("attach-sheet").close());
  byTestId("record-button").addEventListener("click", startRecording);
  byTestId("recording-cancel").addEventListener("click", cancelRecording);
  byTestId("recording-send").addEventListener("click", () => stopRecording(true));
  byTestId("start-button").addEventListener("click", () => sendText("/start"));
  fitTextInput();
  byTestId("location-form").addEventListener("submit", submitTypedLocation);
  byTestId("location-cancel").addEventListener("click", () => byTestId("location-picker").close());
  byTestId("new-person").addEventListener("click", openNewPerson);
  byTestId("new-person-form").addEventListener("submit", submitNewPerson);
  byTestId("new-person-cancel").addEventListener("click", () => {
    byTestId("new-person-dialog").close();
  });
  byTestId("toast").addEventListener("click", hideToast);
  byTestId("group-member").addEventListener("change", (event) => {
    state.actorId = Number(event.target.value);
    hideToast();
    if (state.groupView) {
      clearChat();
      renderGroup(state.groupView);
    }
  });
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
  const hashed = Number(location.hash.slice(1));
  if ((state.config.groups || []).some((group) => group.id === hashed)) {
    chooseGroup(hashed);
    return;
  }
  const wanted = findPersona(hashed) || state.config.personas[0];
  if (wanted) choose(wanted.id);
}

boot();
