// Small helpers to build HTML and SVG elements without innerHTML, so text from the server or from
// file names is never parsed as markup.

const SVG_NS = "http://www.w3.org/2000/svg";

// h("p", {class: "hint"}, "text", child…): an HTML element. Attributes whose value is null, undefined
// or false are left out; `true` sets an empty attribute; functions under "on…" become listeners.
export function h(tag, attributes = {}, ...children) {
  return build(document.createElement(tag), attributes, children);
}

// s("rect", {x: 0, …}): an SVG element, same rules as h().
export function s(tag, attributes = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attributes, children);
}

function build(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      element.addEventListener(name.slice(2), value);
    } else {
      element.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : String(child));
  }
}

// Replaces an element's children.
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

export function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`no element #${id}`);
  return element;
}

// Draws render(width) into the container now, and again whenever the container's width changes
// (with the latest render function): charts are drawn at the size they are shown, so their text
// stays readable on a phone.
export function mountResponsive(container, render) {
  container._render = render;
  drawAtWidth(container, true);
  if (!container._resizeObserver) {
    container._resizeObserver = new ResizeObserver(() => drawAtWidth(container, false));
    container._resizeObserver.observe(container);
  }
}

function drawAtWidth(container, force) {
  const width = Math.max(260, Math.floor(container.clientWidth || 600));
  if (!force && width === container._width) return;
  container._width = width;
  replace(container, container._render(width));
}
