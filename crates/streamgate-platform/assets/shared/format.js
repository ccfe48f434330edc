// @ts-check
// StreamGate's two browser apps: number, date and duration formats, in the browser's
// locale, made once.

/** Whole numbers with the locale's grouping ("12,345"). */
export const numFmt = new Intl.NumberFormat();

/** Hours and minutes ("14:05", "2:05 PM"). */
export const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

/** A date with its time ("Nov 26, 2026, 10:00 AM"). */
export const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** The same, to the second (the audit log). */
export const dateTimeSecFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

