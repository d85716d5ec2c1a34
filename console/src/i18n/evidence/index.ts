// The words of an event's evidence and verification and of the verification queue, in the event
// page's and the queue's chunks rather than the first load; importing this module adds them to
// the console's (the translation test imports it too).
import { addMessages } from '..';
import kk from './kk.json';
import ru from './ru.json';
import en from './en.json';

addMessages({ kk, ru, en });
