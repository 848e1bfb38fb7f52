import { startWebServer } from '@squeeze/web';
import { defineCommand } from '../flags.js';
import { dataDirFlag, modelDirFlag } from './common.js';

const LOCAL_HOST = '127.0.0.1';

export default defineCommand({
  name: 'web',
  summary: 'Serve a page that trains SqueezeNet, charts it and predicts images in the browser (WebGPU)',
  description:
    "The page trains on the dataset 'squeeze setup' prepared in --data_dir (fetched as its two prepared files), " +
    "predicts with the model 'squeeze save' wrote in --model_dir or with the one it trained, and downloads its model " +
    "for 'squeeze predict'. The server only reads those files and the page's own. Press Ctrl-C to stop it.",
  flags: {
    port: { type: 'int', default: 8080, min: 0, max: 65535, help: 'TCP port to listen on (0: any free port)' },
    host: { type: 'string', default: LOCAL_HOST, metavar: 'ADDRESS', help: 'Interface to listen on; anything but 127.0.0.1 lets other machines read the dataset and model' },
    data_dir: dataDirFlag,
    model_dir: modelDirFlag,
  },
  async run(f) {
    if (f.host !== LOCAL_HOST) {
      console.error(`Warning: serving on ${f.host}: anyone who can reach this machine can open the page and read the dataset and model files. Browsers allow WebGPU only on localhost or HTTPS.`);
    }
    const web = await startWebServer({ port: f.port, host: f.host, dataDir: f.data_dir, modelDir: f.model_dir });
    console.log(`squeeze web: open ${web.url} in Chrome, Edge or another browser with WebGPU (Ctrl-C to stop)`);
    await new Promise<void>((resolve) => {
      const stop = (): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(); };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await web.close();
    return 0;
  },
});
