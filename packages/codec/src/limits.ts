/** The default largest message, in bytes: larger ones fail with 1009. */
export const DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
