// Drives bench/peer.py: one long-lived Python process, one JSON command per line.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export class PythonPeer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly answers: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  private stderr = '';

  constructor(python: string, script: string) {
    // One ORT pool, as in Node; tokenizers may still use its own Rayon threads, as it does for users.
    this.child = spawn(python, [script], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    createInterface({ input: this.child.stdout }).on('line', (line) => this.answers.shift()?.resolve(line));
    this.child.once('exit', (code) => {
      for (const answer of this.answers.splice(0)) answer.reject(new Error(`python peer exited (${code}): ${this.stderr}`));
    });
    this.child.stderr.on('data', (data: Buffer) => {
      this.stderr = (this.stderr + data.toString()).slice(-4000);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async call<T = Record<string, unknown>>(command: Record<string, unknown>): Promise<T> {
    const line = await new Promise<string>((resolve, reject) => {
      this.answers.push({ resolve, reject });
      this.child.stdin.write(JSON.stringify(command) + '\n');
    });
    const answer = JSON.parse(line) as { ok: boolean; error?: string } & T;
    if (!answer.ok) throw new Error(`python peer ${String(command.cmd)}: ${answer.error}`);
    return answer;
  }

  close(): void {
    this.child.stdin.end();
  }
}
