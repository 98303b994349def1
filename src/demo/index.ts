/**
 * A synthetic demo catalogue in the challenge layout (CSV + JPEGs), for trying the pipeline without
 * the real data.
 *
 * @module rakuten-pipeline/demo
 */
export {
  DEMO_PRDTYPECODES,
  generateDemoCatalogue,
  type DemoCatalogueOptions,
  type DemoCatalogueSummary,
  type DemoFaults,
  type DemoInjectedFaults,
} from './generate-catalogue.js';
