// Writes the binary example documents (PDF and DOCX) into examples/. Run once after editing the
// texts: `node --import tsx scripts/make-examples.ts`. The outputs are committed so the demo runs
// without dev dependencies.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { makeDocx, makePdf } from '../test/fixtures/documents.js';

const examples = fileURLToPath(new URL('../examples/', import.meta.url));

const bicyclePages = [
  'A short history of the bicycle\n\n' +
    'The first two-wheeled machine, the draisine of 1817, had no pedals: riders pushed it along the ground with their feet. ' +
    'Pedals fixed to the front wheel arrived in the 1860s with the French velocipede, nicknamed the boneshaker for its iron tyres on cobbled streets.',
  'The penny-farthing of the 1870s grew a huge front wheel, because each turn of the pedals moved the rider one circumference forward. ' +
    'Falls from its high saddle were frequent and dangerous.\n\n' +
    'The safety bicycle of 1885 brought a chain drive to the rear wheel and two wheels of equal size; with pneumatic tyres, patented by John Boyd Dunlop in 1888, ' +
    'it became the shape of almost every bicycle ridden today.',
];

const bees = [
  {
    heading: 'How honey bees make honey',
    paragraphs: [
      'Forager bees suck nectar from flowers and store it in a special honey stomach, where enzymes begin to break its sugars down.',
      'Back at the hive they pass the nectar to house bees, who spread it thinly across the wax cells of the comb.',
      'The bees fan their wings to evaporate the water until the nectar thickens into honey, then seal each cell with a cap of beeswax.',
    ],
  },
  {
    heading: 'The waggle dance',
    paragraphs: [
      'A forager that finds a rich patch of flowers performs a waggle dance on the comb: the angle of the dance tells the direction of the food relative to the sun, and its length tells the distance.',
    ],
  },
];

await writeFile(`${examples}bicycle-history.pdf`, await makePdf(bicyclePages, { title: 'A short history of the bicycle' }));
await writeFile(`${examples}honey-bees.docx`, await makeDocx(bees));
process.stdout.write(`wrote ${examples}bicycle-history.pdf and ${examples}honey-bees.docx\n`);
