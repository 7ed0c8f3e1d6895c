import { yumLike } from "./yum.js";

export const dnf = yumLike("dnf");
