export { runChaos, type ChaosOptions } from './run';
export { writeReport, reportMarkdown, type ChaosReport } from './report';
export { faultSchedule, describeFault, type Fault } from './schedule';
