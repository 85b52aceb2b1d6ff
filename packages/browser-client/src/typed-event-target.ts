/**
 * EventTarget with addEventListener/removeEventListener typed by an event
 * map, the way the DOM types its own targets: for an event type the map
 * names, the listener gets that class; any other type takes a plain Event
 * listener, as on EventTarget. Subclasses state their map and nothing else.
 */

/** A listener function, called with the target as `this`. */
export type TypedListener<Target, E> = (this: Target, ev: E) => unknown;

/**
 * Which listeners the typed overloads take. `functions`: only functions, as
 * the DOM declares them, so a listener object falls back to plain Events.
 * `functions and objects`: a listener object's `handleEvent` is typed too.
 */
type TypedListenerKinds = 'functions' | 'functions and objects';

type TypedListenerOf<Target, E, Kinds extends TypedListenerKinds> =
  | TypedListener<Target, E>
  | (Kinds extends 'functions and objects' ? { handleEvent(event: E): unknown } : never);

export interface TypedEventTarget<EventMap, Target, Kinds extends TypedListenerKinds = 'functions'>
  extends EventTarget {
  /** As EventTarget's; for the event types of the map the listener gets the class the map names. */
  addEventListener<K extends keyof EventMap>(
    type: K,
    listener: TypedListenerOf<Target, EventMap[K], Kinds> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;

  /** As EventTarget's, with the same typing as addEventListener. */
  removeEventListener<K extends keyof EventMap>(
    type: K,
    listener: TypedListenerOf<Target, EventMap[K], Kinds> | null,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

/**
 * EventTarget itself: the typing is all there is to add, so subclasses
 * inherit from EventTarget directly and nothing runs in between.
 */
export const TypedEventTarget = EventTarget as new <
  EventMap,
  Target,
  Kinds extends TypedListenerKinds = 'functions',
>() => TypedEventTarget<EventMap, Target, Kinds>;
