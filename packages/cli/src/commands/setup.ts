import { DATASET_NAMES, setupData } from '@squeeze/squeezenet';
import { defineCommand } from '../flags.js';
import { dataDirFlag } from './common.js';

export default defineCommand({
  name: 'setup',
  summary: 'Download (or import) and prepare the dataset under --data_dir',
  description:
    'Writes <data_dir>/<dataset>/ (train.bin, test.bin, labels.txt, meta.json), a PNG tree ' +
    '<data_dir>/<dataset>_images/{train,test}/<class>/ and <data_dir>/labels.txt. Running it again ' +
    'leaves a complete, verified set alone.',
  flags: {
    data_dir: { ...dataDirFlag, help: 'Directory to prepare the dataset in' },
    dataset: { type: 'enum', choices: DATASET_NAMES, default: 'cifar10', help: 'Dataset to prepare' },
    from: {
      type: 'string',
      metavar: 'PATH',
      defaultHelp: 'download CIFAR-10; the Debian package folder for Fashion-MNIST',
      help: 'CIFAR-10: the cifar-10-binary.tar.gz archive or the extracted cifar-10-batches-bin folder; Fashion-MNIST: the folder with the idx files',
    },
    no_download: { type: 'bool', help: 'Never download: without --from, only an already prepared set is accepted' },
    limit: { type: 'int', min: 1, help: 'Prepare only the first N images of each split (quick experiments)' },
    download_timeout: { type: 'int', default: 60, min: 1, metavar: 'SECONDS', help: 'Give up a download when connecting, or any wait for more data, takes longer' },
  },
  async run(flags) {
    const result = await setupData({
      dataset: flags.dataset,
      dataDir: flags.data_dir,
      from: flags.from,
      download: !flags.no_download,
      limit: flags.limit,
      downloadTimeoutMs: flags.download_timeout * 1000,
      log: (line) => console.log(line),
    });
    if (!result.alreadyPresent) console.log(`Next: squeeze train --data_dir ${flags.data_dir} --dataset ${result.dataset}`);
  },
});
