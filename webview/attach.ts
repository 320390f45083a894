// A Svelte attachment that listens to an element's own events. VS Code Elements dispatch `change` without bubbling,
// and Svelte delegates `onchange` to the root (it only sees bubbling events), so such listeners go on the element.
import type { Attachment } from 'svelte/attachments';

export function listen<E extends Event = Event>(type: string, handler: (event: E) => void): Attachment<HTMLElement> {
  return (element) => {
    const listener = (event: Event): void => handler(event as E);
    element.addEventListener(type, listener);
    return () => element.removeEventListener(type, listener);
  };
}
