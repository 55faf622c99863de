// The optional alarm for urgent incidents: a short WebAudio beep, off by default, remembered per browser.

export class Alarm {
  constructor() {
    this.context = null;
    try { this.enabled = localStorage.getItem('ops.sound') === 'on'; } catch { this.enabled = false; }
    this.beeps = 0;
  }

  /** Turns the sound on or off (turning it on is a user gesture, which lets the browser play audio). */
  setEnabled(on) {
    this.enabled = on;
    try { localStorage.setItem('ops.sound', on ? 'on' : 'off'); } catch { /* not remembered */ }
    if (on) {
      this.context ??= new AudioContext();
      this.context.resume();
      this.beep();
    }
  }

  /** Two short tones, if enabled. */
  beep() {
    if (!this.enabled) return;
    this.context ??= new AudioContext();
    const ctx = this.context;
    this.beeps += 1;
    [0, 0.25].forEach((offset, i) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = i ? 1320 : 880;
      gain.gain.setValueAtTime(0.0001, ctx.currentTime + offset);
      gain.gain.exponentialRampToValueAtTime(0.3, ctx.currentTime + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + offset + 0.2);
      osc.connect(gain).connect(ctx.destination);
      osc.start(ctx.currentTime + offset);
      osc.stop(ctx.currentTime + offset + 0.22);
    });
  }
}
