export { countLabel, legendValues, lineChartSvg, writeLineChartSvg, type ChartPoint, type ChartSeries, type LineChart } from './chart.js';
