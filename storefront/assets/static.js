// Pages without dynamic content (e.g. 404): header, language switch, basket count.
import { initPage } from './core.js';

initPage();
