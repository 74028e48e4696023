// Accessible names and Ctrl+Enter for ipywidgets controls (see a11y.py). Draws nothing.
const CONTROLS = "input, textarea, select, button, [role='slider'], [contenteditable='true']";

function render({ model, el }) {
  const scope = () => el.closest(".wb-app") || document.body;

  function label() {
    const root = scope();
    for (const [cls, name] of Object.entries(model.get("labels"))) {
      for (const box of root.getElementsByClassName(cls)) {
        const controls = box.matches(CONTROLS) ? [box] : box.querySelectorAll(CONTROLS);
        for (const c of controls) {
          // a slider's readout is an editable copy of its value: name it after the slider too
          if (c.getAttribute("aria-label") !== name) c.setAttribute("aria-label", name);
        }
      }
    }
  }

  let pending = false;
  const observer = new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; label(); });
  });
  observer.observe(document.body, { childList: true, subtree: true });
  label();

  function onKey(event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    const from = model.get("submit_from");
    if (!from || !event.target.closest("." + from)) return;
    const to = scope().querySelector("." + model.get("submit_to"));
    const button = to && (to.matches("button") ? to : to.querySelector("button"));
    if (!button || button.disabled) return;
    event.preventDefault();
    // the text box syncs its value on every keystroke, so the kernel has it before the click
    button.click();
  }
  document.addEventListener("keydown", onKey, true);
  model.on("change:labels", label);

  return () => {
    observer.disconnect();
    document.removeEventListener("keydown", onKey, true);
    model.off("change:labels", label);
  };
}

export default { render };
